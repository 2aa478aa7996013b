/**
 * RSS per byte held (issue 12, item 2): while many big bodies wait in the proxy, its RSS must grow
 * by little more than what it holds, under Node's default heap limit, where V8 collects late.
 * Garbage counts here, not only what is alive (memory-held.test.ts): before big inputs were held
 * as the body's own bytes and sent in pieces, parsing and sending left short-lived copies of each
 * body that V8 freed only at a full collection: this test measured 2.52 bytes per byte held then.
 * Now 1.29 alone, 1.46 while the rest of the suite ran on Node 20 and 1.79 on Node 24 (the CI
 * run of 2026-11-30): what is left is a fixed slack (dead
 * read chunks V8 has not collected yet, tens of MB whatever is held), which weighs more on the
 * 90 MB held here than on the 200 MB, where bench/memory-flood.ts measured 1.16 against
 * the target of 1.5 (docs/memory.md, Measured). Hence 2.0 here: under the old code,
 * with room for a loaded machine and another V8.
 */
import { describe, expect, it } from 'vitest';
import { runFlood } from './flood-run.js';

describe('RSS per byte of body held', () => {
  it('grows by under 2 bytes per byte held while big bodies wait (the code before: 2.5)', { timeout: 120_000 }, async () => {
    const report = await runFlood({
      // 90 MB of bodies, all within the budget: every one is taken and waits for its call.
      clients: 60,
      inputBytes: 1_500_000,
      upstreamCallMs: 100,
      maxOldSpaceMb: 4096,
      proxyArgs: ['--max-memory-bytes', '100000000'],
      requestTimeoutMs: 60_000,
    });
    const perByte = (report.rssPeakMb - report.rssBeforeMb) / report.heldPeakMb;
    console.info(`RSS per byte held: ${perByte.toFixed(2)}`, JSON.stringify(report));
    expect(report.statuses).toEqual({ 200: 60 });
    expect(report.heldPeakMb).toBeGreaterThan(60);
    expect(perByte).toBeLessThan(2);
  });
});
