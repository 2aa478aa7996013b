/** The pieces behind `npm run demo` and `npm run bench:results`: build detection and the table. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildState } from '../../bench/ensure-build.js';
import { comparisonSummary, renderComparisonTable } from '../../bench/comparison-table.js';
import type { BenchReport, LevelReport, TargetRun } from '../../src/loadgen/index.js';

describe('buildState', () => {
  const root = mkdtempSync(join(tmpdir(), 'autobatch-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const touch = (path: string, secondsAgo: number): void => {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, '');
    const at = Date.now() / 1000 - secondsAgo;
    utimesSync(full, at, at);
  };

  it('is missing without a build, stale when src/ or sim/ is newer, fresh otherwise', () => {
    touch('src/cli/main.ts', 100);
    touch('sim/main.ts', 100);
    expect(buildState(root)).toBe('missing');
    touch('dist/cli/main.js', 50);
    expect(buildState(root)).toBe('missing');
    touch('dist-sim/sim/main.js', 50);
    expect(buildState(root)).toBe('fresh');
    touch('src/core/batcher.ts', 10);
    expect(buildState(root)).toBe('stale');
    // Only TypeScript sources count: notes or data next to them do not force a build.
    touch('dist/cli/main.js', 5);
    touch('dist-sim/sim/main.js', 5);
    touch('src/notes.md', 1);
    expect(buildState(root)).toBe('fresh');
    // The simulator's sources count too.
    touch('sim/engine.ts', 0);
    expect(buildState(root)).toBe('stale');
  });
});

function run(role: 'target' | 'baseline', inputsPerSecond: number, inputsPerRequest: number, p50: number, batchMean?: number): TargetRun {
  return {
    role,
    url: role === 'target' ? 'http://proxy' : 'http://upstream',
    startedAt: '2026-01-01T00:00:00.000Z',
    measuredSeconds: 10,
    requestsOk: (inputsPerSecond * 10) / inputsPerRequest,
    inputsOk: inputsPerSecond * 10,
    requestsPerSecond: inputsPerSecond / inputsPerRequest,
    inputsPerSecond,
    latencyMs: { count: 1, min: p50, mean: p50, p50, p90: p50, p99: p50 * 2, p999: p50 * 2, max: p50 * 2 },
    errors: {},
    errorCount: 0,
    errorSamples: [],
    batchSize: batchMean === undefined ? null : { answers: 1, mean: batchMean, min: 1, max: 32, distribution: [] },
    clientCpuPercent: 10,
    clientEventLoopUtilization: 0.1,
    latencyHistogram: null,
  };
}

function report(inputsPerRequest: number, levels: LevelReport[]): BenchReport {
  return {
    tool: 'autobatch bench',
    schemaVersion: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    options: {
      url: 'http://proxy',
      baseline: null,
      route: '/embed',
      inputsPerRequest,
      textsSource: 'built-in corpus',
      durationSeconds: 10,
      warmupSeconds: 2,
      mode: 'closed',
      levels: levels.map((level) => level.level),
      maxOutstanding: 1024,
      timeoutMs: 30_000,
      headers: {},
      extraBody: {},
      textCount: 289,
    },
    routeKind: 'embed',
    machine: { node: 'v20', platform: 'linux', arch: 'x64', cpuModel: 'cpu', cores: 2, totalMemoryBytes: 1, loadAverage: [0, 0, 0] },
    vectorWidth: { target: 512, baseline: 512 },
    levels,
    warnings: [],
  };
}

function sideBySide(clients: number, direct: number, proxied: number, batchMean: number): LevelReport {
  const target = run('target', proxied, 1, 20, batchMean);
  const baseline = run('baseline', direct, 1, 10);
  return {
    level: { mode: 'closed', concurrency: clients },
    label: `c=${clients}`,
    order: ['target', 'baseline'],
    target,
    baseline,
    ratios: { requestsPerSecond: proxied / direct, p50: 2, p99: 2 },
  };
}

function alone(clients: number, inputsPerSecond: number, inputsPerRequest: number): LevelReport {
  return {
    level: { mode: 'closed', concurrency: clients },
    label: `c=${clients}`,
    order: ['target'],
    target: run('target', inputsPerSecond, inputsPerRequest, 30),
    baseline: null,
    ratios: null,
  };
}

describe('renderComparisonTable', () => {
  const individual = report(1, [sideBySide(1, 100, 90, 1), sideBySide(8, 100, 400, 6.5), sideBySide(128, 100, 2000, 31)]);
  const clientBatches = report(32, [alone(1, 1500, 32), alone(4, 2500, 32)]);

  it('puts client batches in the column of their inputs in flight', () => {
    const table = renderComparisonTable({ individual, clientBatches });
    const rows = table.split('\n');
    expect(rows[0]).toBe('| inputs in flight | 1 | 8 | 32 | 128 |');
    expect(rows).toContain('| clients, individual requests | 1 | 8 | – | 128 |');
    expect(rows).toContain('| clients × inputs, client batches | – | – | 1 × 32 | 4 × 32 |');
    expect(rows.find((row) => row.includes('client batches of 32, direct'))).toMatch(/\(upper bound\) \| – \| – \| 1500 \| 2500 \|$/);
    expect(rows.find((row) => row.includes('autobatch ÷ direct, inputs/s'))).toContain('| **0.90×** | **4.00×** | – | **20.00×** |');
    expect(rows.find((row) => row.startsWith('| mean upstream batch'))).toBe('| mean upstream batch through autobatch | 1.00 | 6.50 | – | 31.0 |');
    for (const row of rows) expect(row.split('|').length).toBe(rows[0]?.split('|').length);
  });

  it('without client batches, labels columns by clients and keeps the summary aligned', () => {
    const table = renderComparisonTable({ individual });
    expect(table.split('\n')[0]).toBe('| clients (one input per request) | 1 | 8 | 128 |');
    expect(table).not.toContain('client batches');
    const summary = comparisonSummary({ individual, clientBatches });
    expect(summary.map((column) => column.inputsInFlight)).toEqual([1, 8, 32, 128]);
    expect(summary[3]).toMatchObject({ directInputsPerSecond: 100, autobatchInputsPerSecond: 2000, clientBatchInputsPerSecond: 2500 });
  });
});
