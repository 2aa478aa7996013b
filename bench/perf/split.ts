/**
 * Micro-benchmark: cutting a 32 x 768 /embed answer into 32 per-client answers, the proxy's way
 * (scan for element boundaries, copy the upstream's bytes) against JSON.parse + JSON.stringify.
 * Both run in the same process, alternating, so the ratio is what to read.
 *
 *   node --import tsx bench/perf/split.ts
 */
import { joinJsonList, splitJsonList } from '../../src/routes/json-list.js';

const CLIENTS = 32;
const DIMENSIONS = 768;

/** An answer like TEI's: f32 values in their shortest spelling. */
function embedAnswer(): Buffer {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const rows: string[] = [];
  for (let r = 0; r < CLIENTS; r++) {
    const values: string[] = [];
    for (let d = 0; d < DIMENSIONS; d++) {
      const f = Math.fround(random() * 0.1);
      let text = '';
      for (let p = 1; p <= 9; p++) {
        text = f.toPrecision(p);
        if (Math.fround(Number(text)) === f) break;
      }
      values.push(String(Number(text)));
    }
    rows.push(`[${values.join(',')}]`);
  }
  return Buffer.from(`[${rows.join(',')}]`);
}

function viaScan(body: Buffer): Buffer[] {
  const answers = splitJsonList(body, CLIENTS)!;
  return answers.map((answer) => joinJsonList([answer]));
}

function viaParse(body: Buffer): Buffer[] {
  const rows = JSON.parse(body.toString('utf8')) as unknown[];
  return rows.map((row) => Buffer.from(JSON.stringify([row])));
}

function timePerRun(run: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  return Number(process.hrtime.bigint() - start) / 1e6 / iterations;
}

export function measureSplit(rounds = 5, iterations = 200): { scanMs: number; parseMs: number; ratio: number; sameBytes: boolean; bytes: number } {
  const body = embedAnswer();
  // Each client's bytes must be the upstream's own bytes for its element.
  const scanned = viaScan(body);
  const rows = JSON.parse(body.toString()) as unknown[];
  let sameBytes = scanned.length === CLIENTS;
  const expectedTexts = body.toString().slice(1, -1);
  sameBytes &&= scanned.map((b) => b.toString().slice(1, -1)).join(',') === expectedTexts;
  sameBytes &&= scanned.every((b, i) => JSON.stringify(JSON.parse(b.toString())) === JSON.stringify([rows[i]]));
  for (let i = 0; i < 50; i++) {
    viaScan(body);
    viaParse(body);
  }
  const scan: number[] = [];
  const parse: number[] = [];
  for (let r = 0; r < rounds; r++) {
    scan.push(timePerRun(() => viaScan(body), iterations));
    parse.push(timePerRun(() => viaParse(body), Math.max(10, iterations / 10)));
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const scanMs = median(scan);
  const parseMs = median(parse);
  return { scanMs, parseMs, ratio: parseMs / scanMs, sameBytes, bytes: body.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = measureSplit();
  console.log(`answer: ${CLIENTS} x ${DIMENSIONS} floats, ${(r.bytes / 1024).toFixed(0)} KiB`);
  console.log(`scan + copy:            ${(r.scanMs * 1000).toFixed(1)} µs per answer`);
  console.log(`JSON.parse + stringify: ${(r.parseMs * 1000).toFixed(1)} µs per answer`);
  console.log(`ratio: ${r.ratio.toFixed(1)}x faster; each client's bytes are the upstream's: ${r.sameBytes}`);
}
