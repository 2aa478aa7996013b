/** The `autobatch` command line: parse, check, start. Nothing else happens here. */
import { Command, CommanderError } from 'commander';
import { createBenchCommand } from '../loadgen/command.js';
import { VERSION } from '../version.js';
import { addServeOptions, createServeCommand, runServe } from './serve-command.js';

/** Exit code for a bad option or setting: the program never started. */
const USAGE_ERROR = 2;

/** Tracing has no flag of its own: it takes the standard OTEL_* variables, as TEI and the collector do. */
const TRACING_HELP =
  '\nTracing: OpenTelemetry, configured by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,\n' +
  'OTEL_TRACES_SAMPLER, ...); off when none is set. See docs/observability.md in the repository.';

export function createProgram(): Command {
  const program = new Command('autobatch')
    .description(
      'Auto-batching reverse proxy for inference servers such as Hugging Face text-embeddings-inference.\n' +
        'Merges concurrent single requests into batch calls; every other route passes through untouched.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', TRACING_HELP);
  addServeOptions(program).action((flags, command: Command) => runServe(flags, command));
  program.addCommand(createServeCommand().addHelpText('after', TRACING_HELP));
  program.addCommand(createBenchCommand());
  return program;
}

function exitOverrideAll(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideAll(sub);
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = createProgram();
  exitOverrideAll(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      process.exit(ok ? 0 : error.exitCode === 0 ? 0 : USAGE_ERROR);
    }
    throw error;
  }
}
