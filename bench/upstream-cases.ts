/**
 * The upstreams the demo and the results benchmark put autobatch in front of, with the texts
 * sent to each. The real model shows what happens on a plain CPU inference server; the
 * simulator stands in for hardware this machine does not have (a GPU-like server) and for TEI's
 * own batching, with costs given in milliseconds rather than measured.
 */
import type { ServiceSpec } from './service-process.js';
import { PADDED_CPU_COST, simulatorFlags, teiSimulator, useModelUpstream, type SimulatorCost } from './service-specs.js';
import { TEXT_SETS, type TextSet } from './text-sets.js';

export interface UpstreamCase {
  key:
    | 'model-short'
    | 'model-short-batch8'
    | 'model-short-buckets'
    | 'model-mixed'
    | 'model-mixed-buckets'
    | 'gpu'
    | 'tei'
    | 'tei-inflight4'
    | 'cpu-pad';
  title: string;
  /** Short name for chart panels. */
  panel: string;
  description: string;
  spec: ServiceSpec;
  texts: TextSet;
  /** How to start this upstream by hand, for the README. */
  command: string;
  /** Proxy flags beyond its defaults. */
  proxyArgs?: readonly string[];
  /** Inputs per client-side batch when it should match a proxy limit (default: the plan's). */
  clientBatchSize?: number;
}

export const GPU_LIKE_COST: SimulatorCost = { perCallMs: 10, perItemMs: 0.1, slots: 1, merge: false };
export const TEI_LIKE_COST: SimulatorCost = { ...GPU_LIKE_COST, merge: true };

const MODEL_COMMAND = 'npx tsx bench/upstreams/use-tei-main.ts --port 8081';
const MODEL_DESCRIPTION =
  'Universal Sentence Encoder lite (TF.js on WebAssembly) behind a TEI-compatible API: a plain inference server, each HTTP call ' +
  'one model call, one call at a time in arrival order. It runs on this machine’s CPU next to the proxy and the load generator, ' +
  'and pads every input of a batch to the longest one.';

export const UPSTREAM_CASES: readonly UpstreamCase[] = [
  {
    key: 'model-short',
    title: 'Real model (Universal Sentence Encoder on CPU), short texts',
    panel: 'real model, short texts',
    description: `${MODEL_DESCRIPTION} Texts: ${TEXT_SETS.short.detail}.`,
    spec: useModelUpstream(),
    texts: TEXT_SETS.short,
    command: MODEL_COMMAND,
  },
  {
    key: 'model-short-batch8',
    title: 'Real model (Universal Sentence Encoder on CPU), short texts, autobatch with --max-batch-size 8',
    panel: 'real model, short texts, --max-batch-size 8',
    description:
      'As above, with batches of at most 8 inputs: on this model a batch of 8 costs less per input than one of 32, whose ' +
      `padding eats the gain. The client batches are of 8 inputs too. Texts: ${TEXT_SETS.short.detail}.`,
    spec: useModelUpstream(),
    texts: TEXT_SETS.short,
    command: MODEL_COMMAND,
    proxyArgs: ['--max-batch-size', '8'],
    clientBatchSize: 8,
  },
  {
    key: 'model-short-buckets',
    title: 'Real model (Universal Sentence Encoder on CPU), short texts, autobatch with --bucket-by-length 2',
    panel: 'real model, short texts, --bucket-by-length 2',
    description:
      'As the first, with requests batched only with requests whose texts are within a factor of 2 in length, so that a batch ' +
      'pads little. The client batches are of 32 texts in the order sent, as in the first section. ' +
      `Texts: ${TEXT_SETS.short.detail}.`,
    spec: useModelUpstream(),
    texts: TEXT_SETS.short,
    command: MODEL_COMMAND,
    proxyArgs: ['--bucket-by-length', '2'],
  },
  {
    key: 'model-mixed',
    title: 'Real model (Universal Sentence Encoder on CPU), mixed texts',
    panel: 'real model, mixed texts',
    description: `${MODEL_DESCRIPTION} Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: useModelUpstream(),
    texts: TEXT_SETS.mixed,
    command: MODEL_COMMAND,
  },
  {
    key: 'model-mixed-buckets',
    title: 'Real model (Universal Sentence Encoder on CPU), mixed texts, autobatch with --bucket-by-length 2',
    panel: 'real model, mixed texts, --bucket-by-length 2',
    description:
      'As above, with requests batched only with requests whose texts are within a factor of 2 in length: paragraphs and queries ' +
      'go to different calls. The client batches are of 32 texts in the order sent, so they still mix lengths. ' +
      `Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: useModelUpstream(),
    texts: TEXT_SETS.mixed,
    command: MODEL_COMMAND,
    proxyArgs: ['--bucket-by-length', '2'],
  },
  {
    key: 'gpu',
    title: 'Simulated GPU-like server: 10 ms per call + 0.1 ms per input, no batching across calls',
    panel: 'GPU-like simulator',
    description:
      'The TEI simulator with a cost model: a call of n inputs takes 10 + 0.1·n ms whatever the text lengths, one call at a time, ' +
      `each HTTP call its own batch, as on an accelerator where a call’s fixed cost dominates. Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: teiSimulator(GPU_LIKE_COST),
    texts: TEXT_SETS.mixed,
    command: `node dist-sim/sim/main.js --port 8081 ${simulatorFlags(GPU_LIKE_COST)}`,
  },
  {
    key: 'tei',
    title: 'Simulated server that batches internally like TEI (same costs, --merge)',
    panel: 'TEI-like simulator (merges)',
    description:
      'The same costs, but the server queues every input and a free slot takes everything queued (up to max_batch_tokens), ' +
      `with no wait window, as TEI’s own queue does. Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: teiSimulator(TEI_LIKE_COST),
    texts: TEXT_SETS.mixed,
    command: `node dist-sim/sim/main.js --port 8081 ${simulatorFlags(TEI_LIKE_COST)}`,
  },
  {
    key: 'tei-inflight4',
    title: 'Simulated server that batches internally like TEI, autobatch with --max-inflight 4',
    panel: 'TEI-like simulator, --max-inflight 4',
    description:
      'As above, with four proxy calls in flight instead of two, so that the server’s own queue sees up to 128 inputs at once ' +
      `rather than 64. Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: teiSimulator(TEI_LIKE_COST),
    texts: TEXT_SETS.mixed,
    command: `node dist-sim/sim/main.js --port 8081 ${simulatorFlags(TEI_LIKE_COST)}`,
    proxyArgs: ['--max-inflight', '4'],
  },
  {
    key: 'cpu-pad',
    title: 'Simulated CPU server that pads a batch to its longest input: 2 ms per call + 0.05 ms per word of count × longest',
    panel: 'padded CPU simulator',
    description:
      'The TEI simulator charging for the padded batch, as a CPU backend does: a call of n inputs whose longest has w words costs ' +
      `2 + 0.05·n·w ms, one call at a time. A paragraph in a batch of short texts makes every text in it cost a paragraph. Texts: ${TEXT_SETS.mixed.detail}.`,
    spec: teiSimulator(PADDED_CPU_COST),
    texts: TEXT_SETS.mixed,
    command: `node dist-sim/sim/main.js --port 8081 ${simulatorFlags(PADDED_CPU_COST)}`,
  },
];

/** The cases named in a comma-separated list, in the list's order. */
export function upstreamCases(list: string): UpstreamCase[] {
  return list.split(',').map((key) => {
    const found = UPSTREAM_CASES.find((upstream) => upstream.key === key.trim());
    if (found === undefined) {
      throw new Error(`--upstreams: unknown "${key}" (${UPSTREAM_CASES.map((upstream) => upstream.key).join(', ')})`);
    }
    return found;
  });
}
