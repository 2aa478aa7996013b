/**
 * The in-flight limiter under random completions: whatever the calls, the limit stays within its
 * bounds and at least one staging slot stays above the work slots. The scripted tests choose
 * each window; this one lets windows, probes, pauses and restarts fall as they may, which is how
 * a chain of steps down was found to reach two work slots and no staging slot (and, after it, a
 * narrowing to one call in flight).
 */
import { describe, expect, it } from 'vitest';
import { InflightLimit } from '../../../src/core/policy/inflight-limit.js';
import { seededRandom } from '../../support/seeded-random.js';

describe('in-flight limit: invariants under random completions', () => {
  it('keeps the limit within its bounds and a staging slot above the work slots', () => {
    const random = seededRandom(1);
    for (let run = 0; run < 200; run++) {
      const limiter = new InflightLimit({ replicas: 1, min: 2, max: 16, initial: 2 });
      let now = 0;
      for (let call = 0; call < 3000; call++) {
        // Mostly back-to-back completions, now and then a pause of a third of a second or more.
        now += random() < 0.01 ? 300 + random() * 1000 : random() * 20;
        const duration = 5 + random() * 20;
        limiter.record({
          startedAt: now - duration,
          finishedAt: now,
          items: 1 + Math.floor(random() * 32),
          load: random() < 0.5 ? 8 : 128,
          busy: random() < 0.6,
          full: random() < 0.4,
          overHalf: random() < 0.6,
        });
        if (random() < 0.002) limiter.restart(now);
        if (limiter.limit < 2 || limiter.limit > 16 || limiter.workSlotsPerReplica >= limiter.limit) {
          expect.fail(`run ${run}, call ${call}: limit ${limiter.limit} with ${limiter.workSlotsPerReplica} work slots (${limiter.reason})`);
        }
      }
    }
  });
});
