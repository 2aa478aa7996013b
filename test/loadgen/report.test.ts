import { describe, expect, it } from 'vitest';
import { resolveBenchOptions } from '../../src/loadgen/bench-options.js';
import { computeRatios, type BenchReport, type LevelReport, type TargetRun } from '../../src/loadgen/bench-report.js';
import type { TargetRole } from '../../src/loadgen/bench-target.js';
import { renderJsonReport } from '../../src/loadgen/report-json.js';
import { formatSignificant, renderMarkdownReport } from '../../src/loadgen/report-markdown.js';
import { chartPoints, renderSvgChart } from '../../src/loadgen/report-svg.js';

function run(role: TargetRole, requestsPerSecond: number, p50: number, p99: number, extra: Partial<TargetRun> = {}): TargetRun {
  return {
    role,
    url: role === 'target' ? 'http://127.0.0.1:3000' : 'http://127.0.0.1:8080',
    startedAt: '2025-01-01T00:00:00.000Z',
    measuredSeconds: 10,
    requestsOk: requestsPerSecond * 10,
    inputsOk: requestsPerSecond * 10,
    requestsPerSecond,
    inputsPerSecond: requestsPerSecond,
    latencyMs: { count: requestsPerSecond * 10, min: p50 / 2, mean: p50, p50, p90: (p50 + p99) / 2, p99, p999: p99, max: p99 * 2 },
    errors: {},
    errorCount: 0,
    errorSamples: [],
    batchSize: role === 'target' ? { answers: 10, mean: 7.5, min: 1, max: 16, distribution: [{ size: 1, count: 10 }] } : null,
    clientCpuPercent: 20,
    clientEventLoopUtilization: 0.2,
    latencyHistogram: null,
    ...extra,
  };
}

function level(concurrency: number, target: TargetRun, baseline: TargetRun | null): LevelReport {
  return {
    level: { mode: 'closed', concurrency },
    label: `c=${concurrency}`,
    order: ['target', 'baseline'],
    target,
    baseline,
    ratios: baseline === null ? null : computeRatios(target, baseline),
  };
}

function report(levels: LevelReport[], overrides: Parameters<typeof resolveBenchOptions>[0] = { url: 'http://127.0.0.1:3000' }): BenchReport {
  const { texts, ...options } = resolveBenchOptions(overrides);
  return {
    tool: 'autobatch bench',
    schemaVersion: 1,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:00.000Z',
    options: { ...options, textCount: texts.length },
    routeKind: 'embed',
    machine: { node: 'v20.0.0', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cores: 2, totalMemoryBytes: 1, loadAverage: [0, 0, 0] },
    vectorWidth: { target: 384, baseline: 384 },
    levels,
    warnings: [],
  };
}

const withBaseline = (): BenchReport =>
  report(
    [
      level(1, run('target', 300, 3, 6), run('baseline', 200, 4, 12)),
      level(
        32,
        run('target', 3000, 10, 20, { errors: { '429': 2, timeout: 1 }, errorCount: 3, errorSamples: ['429: {"error":"Model is `overloaded`"}'] }),
        run('baseline', 2000, 20, 80),
      ),
      level(128, run('target', 0, 0, 0, { latencyMs: null, requestsOk: 0, errors: { network: 5 }, errorCount: 5 }), run('baseline', 100, 900, 1500)),
    ],
    { url: 'http://127.0.0.1:3000', baseline: 'http://127.0.0.1:8080', concurrency: [1, 32, 128] },
  );

function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| c='))
    .map((line) => line.slice(2, -2).split(' | '));
}

describe('renderMarkdownReport', () => {
  it('has one row per level and side, target first, with the target/baseline ratios on the target row', () => {
    const markdown = renderMarkdownReport(withBaseline());
    expect(markdown).toContain(
      '| level | side | req/s | inputs/s | p50 ms | p90 ms | p99 ms | max ms | errors | mean batch | req/s ratio | p50 ratio | p99 ratio |',
    );
    const rows = tableRows(markdown);
    expect(rows.map((row) => `${row[0]} ${row[1]}`)).toEqual([
      'c=1 target',
      'c=1 baseline',
      'c=32 target',
      'c=32 baseline',
      'c=128 target',
      'c=128 baseline',
    ]);
    expect(rows[0]).toEqual(['c=1', 'target', '300', '300', '3.00', '4.50', '6.00', '12.0', '0', '7.50', '1.50×', '0.75×', '0.50×']);
    expect(rows[1]?.slice(9)).toEqual(['–', '–', '–', '–']);
    expect(rows[2]?.[8]).toBe('3 (429: 2, timeout: 1)');
    expect(rows[2]?.slice(10)).toEqual(['1.50×', '0.50×', '0.25×']);
    // No answer at all: no latency and no ratio rather than a misleading 0.
    expect(rows[4]?.slice(4, 8)).toEqual(['–', '–', '–', '–']);
    expect(rows[4]?.slice(10)).toEqual(['0.00×', '–', '–']);
    expect(markdown).toContain('- baseline: http://127.0.0.1:8080');
    expect(markdown).toContain('c=32 target: `429: {"error":"Model is \'overloaded\'"}`');
  });

  it('leaves out the ratio columns without a baseline, and explains drops in open loop', () => {
    const closed = renderMarkdownReport(report([level(1, run('target', 300, 3, 6), null)]));
    expect(closed).not.toContain('ratio');
    expect(tableRows(closed)).toHaveLength(1);
    expect(closed).not.toContain('dropped');
    const open = renderMarkdownReport(report([], { url: 'http://127.0.0.1:3000', rates: [100], maxOutstanding: 64 }));
    expect(open).toContain('open loop');
    expect(open).toMatch(/"dropped" errors are requests that fell due while 64 requests were already outstanding/);
  });

  it('formats numbers with three significant digits', () => {
    expect([0.4123, 1.923, 12.34, 123.4, 12345.6, 0].map(formatSignificant)).toEqual(['0.412', '1.92', '12.3', '123', '12346', '0']);
  });
});

describe('renderJsonReport', () => {
  it('round-trips the whole report, options and machine included, without the texts', () => {
    const original = withBaseline();
    const parsed = JSON.parse(renderJsonReport(original)) as BenchReport;
    expect(parsed).toEqual(original);
    expect(parsed.options.textCount).toBeGreaterThan(0);
    expect(parsed.options).not.toHaveProperty('texts');
    expect(parsed.machine.cpuModel).toBe('Test CPU');
  });
});

/** A small check that the SVG is well-formed: every tag closed, in order, one root. */
function expectWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const body = xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing === '/') {
      expect(stack.pop()).toBe(name);
    } else if (selfClosing !== '/') {
      if (stack.length === 0) roots += 1;
      stack.push(name as string);
    } else if (stack.length === 0) {
      roots += 1;
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
}

describe('renderSvgChart', () => {
  it('draws a well-formed SVG with one point per level for each side', async () => {
    const source = withBaseline();
    const svg = await renderSvgChart(source);
    expect(svg.startsWith('<svg')).toBe(true);
    expectWellFormedXml(svg);
    expect(svg).toContain('throughput (requests/s)');
    expect(svg).toContain('p99 latency (ms)');
    expect(svg).toMatch(/legend[^"]*with 2 values: target, baseline/);
    // The level without any correct answer has no point for the target.
    expect(chartPoints(source)).toHaveLength(5);
    expect(svg.match(/side: target; level: c=\d+/g)?.length).toBe(2);
    expect(svg.match(/side: baseline; level: c=\d+/g)?.length).toBe(3);
    // p99 from 6 to 1500 ms: a log axis keeps the fast levels readable.
    expect(svg).toMatch(/Y-axis titled 'p99 latency \(ms\)' for a log scale/);
  });

  it('draws the target alone without a baseline', async () => {
    const svg = await renderSvgChart(report([level(1, run('target', 300, 3, 6), null), level(8, run('target', 900, 5, 9), null)]));
    expectWellFormedXml(svg);
    expect(svg.match(/side: target; level: c=\d+/g)?.length).toBe(2);
    expect(svg).not.toContain('side: baseline');
  });
});
