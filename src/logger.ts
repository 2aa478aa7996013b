/**
 * pino, as JSON lines or pretty-printed. pino-pretty runs as an in-process stream rather than a
 * transport worker: a worker resolves modules by name at run time, which breaks in the bundled
 * single-file binary.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export function createLogger(level: LevelWithSilent, format: LogFormat): Logger {
  const options = { level, base: { name: 'autobatch' } };
  if (format === 'pretty') {
    return pino(options, pretty({ colorize: process.stdout.isTTY === true, sync: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options);
}

export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}
