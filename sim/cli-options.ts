/**
 * Flags of the simulator's command line (main.ts), mapped onto TeiSimOptions.
 */

import { parseArgs } from 'node:util';
import type { TeiSimModelKind, TeiSimOptions } from './sim-config.js';

export const USAGE = `Usage: tei-sim [options]
  --host <addr>                    listen address (default 127.0.0.1)
  --port <n>                       listen port (default 0: any free port)
  --model <kind>                   embedding | splade | classifier | reranker (default embedding)
  --model-id <name>                served model name
  --task <task>                    sentence-similarity: an embedding model serves POST / and /invocations as /similarity (TEI's TASK)
  --dimensions <n>                 embedding size (default 384)
  --max-client-batch-size <n>      default 32
  --max-concurrent-requests <n>    default 512 (permits per item)
  --max-input-length <n>           tokens, default 512
  --max-batch-tokens <n>           default 16384
  --max-batch-requests <n>         default unset
  --auto-truncate <true|false>     default true
  --payload-limit <bytes>          default 2000000
  --api-key <key>                  require Authorization: Bearer <key>
  --no-prompts                     serve a model without prompts
  --per-call-ms <ms>               cost of a backend call (enables the cost model)
  --per-item-ms <ms>               cost per item in a backend call
  --slots <n>                      backend calls running at once (default 1)
  --merge                          batch items across calls like TEI's queue
  --per-token-ms <ms>              cost per token a backend call computes
  --pad                            pad each batch to its longest input (per-token cost n x longest)
  --help`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer, got ${value}`);
  return n;
}

function decimal(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number, got ${value}`);
  return n;
}

export function optionsFromArgs(args: readonly string[]): TeiSimOptions | 'help' {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      model: { type: 'string' },
      'model-id': { type: 'string' },
      task: { type: 'string' },
      dimensions: { type: 'string' },
      'max-client-batch-size': { type: 'string' },
      'max-concurrent-requests': { type: 'string' },
      'max-input-length': { type: 'string' },
      'max-batch-tokens': { type: 'string' },
      'max-batch-requests': { type: 'string' },
      'auto-truncate': { type: 'string' },
      'payload-limit': { type: 'string' },
      'api-key': { type: 'string' },
      'no-prompts': { type: 'boolean' },
      'per-call-ms': { type: 'string' },
      'per-item-ms': { type: 'string' },
      slots: { type: 'string' },
      merge: { type: 'boolean' },
      'per-token-ms': { type: 'string' },
      pad: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return 'help';
  const model = values.model;
  if (model !== undefined && !['embedding', 'splade', 'classifier', 'reranker'].includes(model)) {
    throw new Error(`--model must be embedding, splade, classifier or reranker, got ${model}`);
  }
  const autoTruncate = values['auto-truncate'];
  if (autoTruncate !== undefined && autoTruncate !== 'true' && autoTruncate !== 'false') {
    throw new Error(`--auto-truncate must be true or false, got ${autoTruncate}`);
  }
  const perCallMs = decimal('per-call-ms', values['per-call-ms']);
  const perItemMs = decimal('per-item-ms', values['per-item-ms']);
  const slots = integer('slots', values.slots);
  const merge = values.merge === true;
  const perTokenMs = decimal('per-token-ms', values['per-token-ms']);
  const pad = values.pad === true;
  const costed = perCallMs !== undefined || perItemMs !== undefined || slots !== undefined || merge || perTokenMs !== undefined || pad;
  const options: TeiSimOptions = {};
  if (values.host !== undefined) options.host = values.host;
  const port = integer('port', values.port);
  if (port !== undefined) options.port = port;
  if (model !== undefined) options.model = model as TeiSimModelKind;
  if (values['model-id'] !== undefined) options.modelId = values['model-id'];
  if (values.task !== undefined) {
    if (values.task !== 'sentence-similarity') throw new Error(`--task must be sentence-similarity, got ${values.task}`);
    options.task = values.task;
  }
  const numeric: Array<[keyof TeiSimOptions, string]> = [
    ['dimensions', 'dimensions'],
    ['maxClientBatchSize', 'max-client-batch-size'],
    ['maxConcurrentRequests', 'max-concurrent-requests'],
    ['maxInputLength', 'max-input-length'],
    ['maxBatchTokens', 'max-batch-tokens'],
    ['maxBatchRequests', 'max-batch-requests'],
    ['payloadLimit', 'payload-limit'],
  ];
  for (const [key, flag] of numeric) {
    const n = integer(flag, values[flag as keyof typeof values] as string | undefined);
    if (n !== undefined) (options as Record<string, unknown>)[key] = n;
  }
  if (autoTruncate !== undefined) options.autoTruncate = autoTruncate === 'true';
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  if (values['no-prompts'] === true) options.prompts = null;
  if (costed) {
    options.cost = { perCallMs: perCallMs ?? 0, perItemMs: perItemMs ?? 0, slots: slots ?? 1, merge };
    if (perTokenMs !== undefined) options.cost.perTokenMs = perTokenMs;
    if (pad) options.cost.pad = true;
  }
  return options;
}
