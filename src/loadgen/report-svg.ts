// The report as a chart: throughput (x) against p99 latency (y), one point per level, one line
// per side. A better target sits to the right of and below the baseline.
//
// Drawn with vega-lite compiled to vega and rendered by vega's headless SVG renderer: no
// browser, no canvas, no native build. Both are imported lazily so that the proxy (`autobatch
// serve`) never loads them.
import type { TopLevelSpec } from 'vega-lite';
import type { BenchReport } from './bench-report.js';

interface ChartPoint {
  side: 'target' | 'baseline';
  level: string;
  levelIndex: number;
  requestsPerSecond: number;
  p99Ms: number;
}

const SIDE_COLOURS = { target: '#d95f02', baseline: '#1b6ca8' } as const;

/** One point per level and side that had at least one correct answer. */
export function chartPoints(report: BenchReport): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const [levelIndex, level] of report.levels.entries()) {
    for (const run of [level.target, level.baseline]) {
      if (run === null || run.latencyMs === null) continue;
      points.push({
        side: run.role,
        level: level.label,
        levelIndex,
        requestsPerSecond: run.requestsPerSecond,
        p99Ms: run.latencyMs.p99,
      });
    }
  }
  return points;
}

/** The vega-lite specification of the chart (exported for tests and for reuse in notebooks). */
export function chartSpec(report: BenchReport): TopLevelSpec {
  const points = chartPoints(report);
  const latencies = points.map((point) => point.p99Ms);
  const spread = latencies.length > 0 ? Math.max(...latencies) / Math.max(Math.min(...latencies), 1e-6) : 1;
  // Latency under overload spans orders of magnitude; a log axis keeps the fast levels readable.
  const yScale = spread >= 20 ? { type: 'log' as const } : { zero: true };
  const sides = report.options.baseline === null ? ['target'] : ['target', 'baseline'];
  const { options } = report;
  const loop = options.mode === 'closed' ? 'closed loop, labels are client counts' : 'open loop, labels are offered rates';
  const x = { field: 'requestsPerSecond', type: 'quantitative' as const, title: 'throughput (requests/s)', scale: { zero: true } };
  const y = { field: 'p99Ms', type: 'quantitative' as const, title: 'p99 latency (ms)', scale: yScale };
  const color = {
    field: 'side',
    type: 'nominal' as const,
    title: null,
    scale: { domain: sides, range: sides.map((side) => SIDE_COLOURS[side as 'target' | 'baseline']) },
    legend: { orient: 'top' as const, direction: 'horizontal' as const },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `autobatch bench: POST ${options.route}, throughput vs p99 latency`,
      subtitle: `${options.inputsPerRequest} input(s) per request; ${loop}`,
    },
    width: 640,
    height: 400,
    background: 'white',
    data: { values: points as unknown as Array<Record<string, unknown>> },
    layer: [
      {
        mark: { type: 'line', point: { filled: true, size: 70 }, strokeWidth: 2 },
        encoding: { x, y, color, order: { field: 'levelIndex', type: 'quantitative' } },
      },
      // Level labels: above the target's points and below the baseline's, so that where the
      // two sides coincide (low load) the labels do not overprint each other.
      ...sides.map((side) => ({
        transform: [{ filter: { field: 'side', equal: side } }],
        mark: { type: 'text' as const, align: 'left' as const, dx: 7, dy: side === 'target' ? -8 : 12, fontSize: 11 },
        encoding: { x, y, color, text: { field: 'level', type: 'nominal' as const } },
      })),
    ],
  };
}

/** Renders the chart as a standalone SVG document. */
export function renderSvgChart(report: BenchReport): Promise<string> {
  return renderVegaLiteSvg(chartSpec(report));
}

/**
 * Any vega-lite chart as a standalone SVG document, headless: the one renderer for this chart and
 * the benchmark results' chart (bench/results-chart.ts). vega is imported only when a chart is
 * drawn, so a bench run without --svg never loads it.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
