/**
 * The benchmark results' chart goes through the same vega-lite renderer as `autobatch bench --svg`
 * (renderVegaLiteSvg in src/loadgen/report-svg.ts): fed the stored reports behind the published
 * tables, it draws one panel per upstream with its three series.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/loadgen/bench-report.js';
import { renderResultsChart } from '../../bench/results-chart.js';

const report = (name: string): BenchReport =>
  JSON.parse(readFileSync(new URL(`../../bench/results/${name}.json`, import.meta.url), 'utf8')) as BenchReport;

describe('results chart', () => {
  it('renders one panel per upstream as SVG, with the three ways of sending', async () => {
    const svg = await renderResultsChart([
      { title: 'GPU-like simulator', comparison: { individual: report('gpu-individual'), clientBatches: report('gpu-client-batches') } },
      { title: 'real model, mixed texts', comparison: { individual: report('model-mixed-individual') } },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['GPU-like simulator', 'real model, mixed texts', 'through autobatch', 'client batches, direct']) expect(svg).toContain(text);
  });
});
