/**
 * The simulator's command line: flags map onto options, and the process prints its URL,
 * serves, and exits cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { optionsFromArgs } from '../cli-options.js';

describe('tei-sim command line', () => {
  it('maps flags onto options', () => {
    expect(optionsFromArgs(['--port', '8080', '--model', 'classifier', '--max-client-batch-size', '8', '--auto-truncate', 'false'])).toEqual({
      port: 8080,
      model: 'classifier',
      maxClientBatchSize: 8,
      autoTruncate: false,
    });
    expect(optionsFromArgs(['--per-call-ms', '10', '--per-item-ms', '0.1', '--merge'])).toEqual({
      cost: { perCallMs: 10, perItemMs: 0.1, slots: 1, merge: true },
    });
    expect(optionsFromArgs(['--api-key', 'k', '--no-prompts'])).toEqual({ apiKey: 'k', prompts: null });
    expect(optionsFromArgs(['--help'])).toBe('help');
    expect(() => optionsFromArgs(['--slots', 'two'])).toThrow(/--slots/);
    expect(() => optionsFromArgs(['--model', 'llm'])).toThrow(/--model/);
  });

  it('prints its URL, serves and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sim/main.ts', '--dimensions', '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const url = chunk.toString().trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"a"}' });
      expect((JSON.parse(await response.text()) as number[][])[0]).toHaveLength(4);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
