/**
 * Command line for the TEI simulator, for benchmarks:
 *
 *   node dist-sim/sim/main.js --port 8080 --per-call-ms 10 --per-item-ms 0.1 --slots 1 --merge
 *
 * Prints the URL on stdout once listening and stops on SIGINT/SIGTERM.
 */

import { USAGE, optionsFromArgs } from './cli-options.js';
import { type TeiSimOptions, startTeiSim } from './index.js';

async function main(): Promise<void> {
  let options: TeiSimOptions | 'help';
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const sim = await startTeiSim(options);
  process.stdout.write(`${sim.url}\n`);
  const stop = (): void => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
