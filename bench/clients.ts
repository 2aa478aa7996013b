/**
 * Upstream calls made by real clients through the proxy, the measurement behind issue 11: N
 * concurrent calls from each published client (`@huggingface/inference` featureExtraction with an
 * endpoint URL, `openai` embeddings on two models, `ollama` embed), straight to the test upstream
 * and through autobatch, counting the calls the upstream received. The upstreams charge a small
 * cost per call so that concurrent requests overlap as they would on a real server.
 *
 *   node --import tsx bench/clients.ts [N=64]
 */
import { InferenceClient } from '@huggingface/inference';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { createLogger } from '../src/logger.js';
import { startProxy } from '../src/proxy.js';
import { startTeiSim } from '../sim/index.js';
import { startOllamaSim } from '../sim/ollama.js';
import { startOpenAiCompatibleSim } from '../sim/openai-compatible.js';
import { say } from './script-io.js';

const count = Number(process.argv[2] ?? 64);
const logger = createLogger('silent', 'json');
const texts = Array.from({ length: count }, (_, i) => `request ${i}: a sentence of ordinary length to embed`);

const tei = await startTeiSim({ dimensions: 384, maxClientBatchSize: 32, cost: { perCallMs: 5, perItemMs: 0.1, slots: 1, merge: false } });
const openaiSim = await startOpenAiCompatibleSim({ models: { 'model-a': 384, 'model-b': 384 } });
const ollamaSim = await startOllamaSim({ models: { 'all-minilm': 384 } });
const proxies = await Promise.all(
  [tei.url, openaiSim.url, ollamaSim.url].map((upstream) => startProxy({ upstream, host: '127.0.0.1', port: 0, logger, maxBatchSize: 32 })),
);
const [viaTei, viaOpenAi, viaOllama] = proxies as [(typeof proxies)[number], (typeof proxies)[number], (typeof proxies)[number]];

interface Row {
  client: string;
  direct: number;
  proxied: number;
}
const rows: Row[] = [];

async function measure(client: string, calls: () => number, run: (base: string) => Promise<unknown>, upstream: string, proxy: string): Promise<void> {
  let before = calls();
  await run(upstream);
  const direct = calls() - before;
  before = calls();
  await run(proxy);
  rows.push({ client, direct, proxied: calls() - before });
  say(`${client}: done`);
}

const hf = new InferenceClient();
await measure(
  '@huggingface/inference featureExtraction (POST /)',
  () => tei.stats.callsByRoute['/'] ?? 0,
  (base) => Promise.all(texts.map((inputs) => hf.endpoint(base).featureExtraction({ inputs }))),
  tei.url,
  viaTei.url,
);
await measure(
  'openai embeddings.create, 2 models, base64 default',
  () => openaiSim.calls.length,
  (base) => {
    const openai = new OpenAI({ apiKey: 'sk-bench', baseURL: `${base}/v1`, maxRetries: 0 });
    return Promise.all(texts.map((input, i) => openai.embeddings.create({ model: i % 2 === 0 ? 'model-a' : 'model-b', input })));
  },
  openaiSim.url,
  viaOpenAi.url,
);
await measure(
  'ollama embed',
  () => ollamaSim.calls.length,
  (base) => Promise.all(texts.map((input) => new Ollama({ host: base }).embed({ model: 'all-minilm', input }))),
  ollamaSim.url,
  viaOllama.url,
);

await Promise.all(proxies.map((proxy) => proxy.close()));
await Promise.all([tei.close(), openaiSim.close(), ollamaSim.close()]);

console.log(`| client (${count} concurrent calls) | upstream calls, direct | upstream calls, through autobatch |`);
console.log('|---|---:|---:|');
for (const row of rows) console.log(`| ${row.client} | ${row.direct} | ${row.proxied} |`);
