/**
 * The one `main()` of the bench scripts (`npm run demo`, `npm run bench:results`, `npm run
 * bench:perf`): read the arguments (a bad one: the message and the usage, exit 2; `--help`: the
 * usage, exit 0), start a ServiceGroup whose every server is stopped on the way out, also on
 * Ctrl-C, run the script, and turn a failure into one line and exit 1. Written once so that every
 * script leaves no process behind and exits with the same codes.
 */
import { say } from './script-io.js';
import { ServiceGroup } from './service-process.js';

export interface BenchScript<Options> {
  /** Named in the failure line, e.g. `bench:results`. */
  readonly name: string;
  readonly usage: string;
  /** Reads the arguments; throws on a bad one. */
  parse(args: string[]): Options | 'help';
  /** What an interrupt stops, e.g. `stopping the servers…`. */
  readonly stopping: string;
  /** Said once every server is stopped, if anything. */
  readonly stopped?: string;
  run(options: Options, services: ServiceGroup): Promise<void>;
}

/** Runs `script` with this process's arguments; resolves to the exit code. */
export async function runBenchScript<Options>(script: BenchScript<Options>): Promise<number> {
  let options: Options | 'help';
  try {
    options = script.parse(process.argv.slice(2));
  } catch (error) {
    say(`${error instanceof Error ? error.message : String(error)}\n${script.usage}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${script.usage}\n`);
    return 0;
  }
  const services = new ServiceGroup({ onInterrupt: (signal) => say(`\n${signal}: ${script.stopping}`) });
  try {
    await script.run(options, services);
    return 0;
  } catch (error) {
    say(`${script.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await services.stopAll();
    if (script.stopped !== undefined) say(script.stopped);
  }
}
