/**
 * Runs the USE-backed TEI-compatible server until SIGINT or SIGTERM:
 *   npx tsx bench/upstreams/use-tei-main.ts --port 8081 [--host 127.0.0.1] [--max-client-batch-size 32]
 * Prints its URL once the model is loaded and the port is listening.
 * From a script, signal the process started as `node_modules/.bin/tsx ...` or
 * `node --import tsx ...`: those pass SIGTERM on, while npx's wrapper dies alone and leaves the
 * server running.
 */
import { parseArgs } from 'node:util';
import { loadUseModel } from './use-model.js';
import { startUseTei } from './use-tei.js';

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return value;
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8081' },
    'max-client-batch-size': { type: 'string' },
    'max-concurrent-requests': { type: 'string' },
  },
});

const server = await startUseTei({
  host: values.host,
  port: integer('port', values.port),
  maxClientBatchSize: integer('max-client-batch-size', values['max-client-batch-size']),
  maxConcurrentRequests: integer('max-concurrent-requests', values['max-concurrent-requests']),
});
const model = await loadUseModel();
console.error(`model loaded in ${Math.round(model.loadMs)} ms on TF.js backend "${model.backend}"`);
console.log(server.url);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: stopping after ${server.stats.calls} model calls, ${server.stats.items} items`);
  await server.close();
  process.exit(0);
}
process.on('SIGINT', (signal) => void stop(signal));
process.on('SIGTERM', (signal) => void stop(signal));
