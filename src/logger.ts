/**
 * pino, as JSON lines or pretty-printed. pino-pretty runs as an in-process stream rather than a
 * transport worker: a worker resolves modules by name at run time, which breaks in the bundled
 * single-file binary.
 */
import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

/**
 * Standard output that never blocks the process: a line that cannot be written (the reader is
 * gone, or the pipe stays full) is dropped. pino's default destination retries a failed write
 * forever when it flushes at exit, so a proxy whose log reader had died never stopped on SIGTERM.
 * The proxy logs only a few lines (start, warnings, stop), never per request, so writing
 * synchronously costs nothing on the hot path.
 */
function stdoutSink(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (let attempt = 0, offset = 0; attempt < 3 && offset < chunk.length; attempt++) {
        try {
          offset += writeSync(1, chunk, offset);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') break;
        }
      }
      callback();
    },
  });
}

export type LogFormat = 'json' | 'pretty';

export function createLogger(level: LevelWithSilent, format: LogFormat): Logger {
  const options = { level, base: { name: 'autobatch' } };
  if (format === 'pretty') {
    return pino(options, pretty({ colorize: process.stdout.isTTY === true, destination: stdoutSink(), ignore: 'pid,hostname,name' }));
  }
  return pino(options, stdoutSink());
}

export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}
