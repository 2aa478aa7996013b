/**
 * What every bench script shares about its surroundings: progress goes to stderr (stdout carries
 * the report), and a shared machine is given a bounded chance to quieten before measuring.
 */
import os from 'node:os';

export const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function loadAverage(): number {
  return os.loadavg()[0] ?? 0;
}

/** Other people's work on a shared machine skews a benchmark: wait (bounded) for it to pass. */
export async function waitForQuiet(threshold: number, limitMs: number): Promise<{ load: number; waitedMs: number; quiet: boolean }> {
  const started = Date.now();
  for (;;) {
    const load = loadAverage();
    if (load < threshold) return { load, waitedMs: Date.now() - started, quiet: true };
    if (Date.now() - started >= limitMs) {
      say(`load average still ${load.toFixed(2)} after ${Math.round(limitMs / 60_000)} min of waiting; measuring anyway`);
      return { load, waitedMs: Date.now() - started, quiet: false };
    }
    say(`load average ${load.toFixed(2)} >= ${threshold}: waiting for the machine to quieten…`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
  }
}
