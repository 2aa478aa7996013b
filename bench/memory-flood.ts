/**
 * Issue 12's flood, as a repo-only benchmark: many clients at once, each sending one big input
 * to /embed, through the proxy running as its own process, in front of an upstream that takes a
 * fixed time per call. Prints the report of test/reliability/flood-run.ts (statuses, time, the
 * proxy's peak RSS). Run `npm run build` first (the proxy runs from dist/).
 *
 *   node --import tsx bench/memory-flood.ts [clients=1500] [inputBytes=1500000] [upstreamCallMs=200]
 *     [maxOldSpaceMb=4096] [timeoutMs=120000] [-- proxy flags...]
 */
import { runFlood } from '../test/reliability/flood-run.js';

const dash = process.argv.indexOf('--');
const positional = (dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash)).map(Number);
const proxyArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
const [clients = 1500, inputBytes = 1_500_000, upstreamCallMs = 200, maxOldSpaceMb = 4096, requestTimeoutMs = 120_000] = positional;

const report = await runFlood({ clients, inputBytes, upstreamCallMs, maxOldSpaceMb, proxyArgs, requestTimeoutMs });
console.log(JSON.stringify({ options: { clients, inputBytes, upstreamCallMs, maxOldSpaceMb, proxyArgs }, ...report }, null, 2));
