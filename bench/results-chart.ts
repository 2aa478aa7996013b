/**
 * The chart of the README's benchmark results: inputs/s against inputs in flight, one panel per
 * upstream, one line per way of sending (individual requests direct, through autobatch, and
 * client-side batches direct). Drawn like `autobatch bench --svg`: vega-lite compiled to vega
 * and rendered headless to SVG, no browser.
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteSvg } from '../src/loadgen/report-svg.js';
import { comparisonSummary, type Comparison } from './comparison-table.js';

export interface ChartPanel {
  /** Panel title, e.g. "real model (USE)". */
  title: string;
  comparison: Comparison;
}

interface ChartPoint {
  panel: string;
  series: string;
  inFlight: number;
  inputsPerSecond: number;
}

const SERIES = {
  direct: 'individual requests, direct',
  autobatch: 'individual requests, through autobatch',
  batches: 'client batches, direct (upper bound)',
} as const;

function chartPoints(panels: readonly ChartPanel[]): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const { title, comparison } of panels) {
    for (const column of comparisonSummary(comparison)) {
      const inFlight = column.inputsInFlight as number;
      const add = (series: string, value: number | null | undefined): void => {
        if (value !== null && value !== undefined) points.push({ panel: title, series, inFlight, inputsPerSecond: value });
      };
      add(SERIES.direct, column.directInputsPerSecond);
      add(SERIES.autobatch, column.autobatchInputsPerSecond);
      add(SERIES.batches, column.clientBatchInputsPerSecond);
    }
  }
  return points;
}

export function resultsChartSpec(panels: readonly ChartPanel[]): TopLevelSpec {
  const series = Object.values(SERIES);
  const points = chartPoints(panels);
  const inFlight = [...new Set(points.map((point) => point.inFlight))].sort((a, b) => a - b);
  // Padding on a log axis, so the first and last points (and their tick labels) are not clipped.
  const domain = inFlight.length > 0 ? [(inFlight[0] as number) / 1.3, (inFlight[inFlight.length - 1] as number) * 1.3] : [1, 2];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Throughput by load: inputs/s against inputs in flight', subtitle: 'POST /embed, closed loop; higher is better' },
    background: 'white',
    data: { values: points as unknown as Array<Record<string, unknown>> },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((panel) => panel.title) },
    columns: 3,
    // Each upstream has its own scale: the simulator is hundreds of times faster than the model.
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    spec: {
      width: 220,
      height: 200,
      mark: { type: 'line', point: { filled: true, size: 50 }, strokeWidth: 2 },
      encoding: {
        x: {
          field: 'inFlight',
          type: 'quantitative',
          title: 'inputs in flight',
          scale: { type: 'log', base: 2, domain, nice: false },
          axis: { values: inFlight },
        },
        y: { field: 'inputsPerSecond', type: 'quantitative', title: 'inputs/s', scale: { zero: true } },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: series, range: ['#1b6ca8', '#d95f02', '#7f7f7f'] },
          legend: { orient: 'top', direction: 'horizontal', labelLimit: 0, symbolStrokeWidth: 2 },
        },
        strokeDash: {
          field: 'series',
          type: 'nominal',
          scale: {
            domain: series,
            range: [
              [1, 0],
              [1, 0],
              [4, 3],
            ],
          },
        },
      },
    },
  };
}

export function renderResultsChart(panels: readonly ChartPanel[]): Promise<string> {
  return renderVegaLiteSvg(resultsChartSpec(panels));
}
