/**
 * The benchmark scripts' Markdown table: one column per load level, one row per way of sending
 * the same inputs (individual requests direct, individual requests through autobatch, and
 * optionally client-side batches direct), in inputs/s, the unit comparable across all of them.
 *
 * Levels are matched by inputs in flight (clients × inputs per request), so that 4 clients
 * sending batches of 32 stand in the same column as 128 clients sending one input each.
 */
import { formatSignificant, type BenchReport, type LevelReport, type TargetRun } from '../src/loadgen/index.js';

export interface Comparison {
  /** Individual requests: target = through autobatch, baseline = direct, measured side by side. */
  individual: BenchReport;
  /** Client-side batches sent straight to the upstream (target only): the upper bound. */
  clientBatches?: BenchReport | undefined;
}

interface Column {
  inFlight: number;
  individual: LevelReport | undefined;
  clientBatch: LevelReport | undefined;
}

function inFlight(report: BenchReport, level: LevelReport): number {
  if (level.level.mode !== 'closed') throw new Error('comparison tables need closed-loop levels (--concurrency)');
  return level.level.concurrency * report.options.inputsPerRequest;
}

function columnsOf(comparison: Comparison): Column[] {
  const columns = new Map<number, Column>();
  const column = (key: number): Column => {
    let found = columns.get(key);
    if (found === undefined) {
      found = { inFlight: key, individual: undefined, clientBatch: undefined };
      columns.set(key, found);
    }
    return found;
  };
  for (const level of comparison.individual.levels) column(inFlight(comparison.individual, level)).individual = level;
  const batches = comparison.clientBatches;
  if (batches !== undefined) for (const level of batches.levels) column(inFlight(batches, level)).clientBatch = level;
  return [...columns.values()].sort((a, b) => a.inFlight - b.inFlight);
}

const EMPTY = '–';

function inputsPerSecond(run: TargetRun | null | undefined): string {
  return run === null || run === undefined ? EMPTY : formatSignificant(run.inputsPerSecond);
}

function latency(run: TargetRun | null | undefined): string {
  if (run === null || run === undefined || run.latencyMs === null) return EMPTY;
  return `${formatSignificant(run.latencyMs.p50)} / ${formatSignificant(run.latencyMs.p99)}`;
}

function times(value: number | null | undefined): string {
  return value === null || value === undefined ? EMPTY : `${value.toFixed(2)}×`;
}

function errors(run: TargetRun | null | undefined): string {
  if (run === null || run === undefined) return EMPTY;
  if (run.errorCount === 0) return '0';
  return Object.entries(run.errors)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
}

/** "1 client" or "4 × 32": how the inputs of a column were sent. */
function clientsOf(level: LevelReport | undefined, inputsPerRequest: number): string {
  if (level === undefined || level.level.mode !== 'closed') return EMPTY;
  const clients = level.level.concurrency;
  return inputsPerRequest === 1 ? String(clients) : `${clients} × ${inputsPerRequest}`;
}

/** The table (and its legend) for one upstream. */
export function renderComparisonTable(comparison: Comparison): string {
  const columns = columnsOf(comparison);
  const batches = comparison.clientBatches;
  const batchSize = batches?.options.inputsPerRequest ?? 0;
  const rows: string[][] = [];
  const row = (label: string, cell: (column: Column) => string): void => {
    rows.push([label, ...columns.map(cell)]);
  };

  const direct = (column: Column): TargetRun | null | undefined => column.individual?.baseline;
  const proxied = (column: Column): TargetRun | undefined => column.individual?.target;
  const batched = (column: Column): TargetRun | undefined => column.clientBatch?.target;

  if (batches !== undefined) {
    row('clients, individual requests', (column) => clientsOf(column.individual, 1));
    row(`clients × inputs, client batches`, (column) => clientsOf(column.clientBatch, batchSize));
  }
  row('inputs/s, individual requests, direct', (column) => inputsPerSecond(direct(column)));
  row('inputs/s, individual requests, through autobatch', (column) => inputsPerSecond(proxied(column)));
  row('**autobatch ÷ direct, inputs/s**', (column) => {
    const ratio = times(column.individual?.ratios?.requestsPerSecond);
    return ratio === EMPTY ? EMPTY : `**${ratio}**`;
  });
  if (batches !== undefined) {
    row(`inputs/s, client batches of ${batchSize}, direct (upper bound)`, (column) => inputsPerSecond(batched(column)));
  }
  row('p50 / p99 ms, direct', (column) => latency(direct(column)));
  row('p50 / p99 ms, through autobatch', (column) => latency(proxied(column)));
  row('autobatch ÷ direct, p50 / p99', (column) => {
    const ratios = column.individual?.ratios;
    return ratios === null || ratios === undefined ? EMPTY : `${times(ratios.p50)} / ${times(ratios.p99)}`;
  });
  if (batches !== undefined) row(`p50 / p99 ms, client batches of ${batchSize}`, (column) => latency(batched(column)));
  row('mean upstream batch through autobatch', (column) => {
    const summary = proxied(column)?.batchSize;
    return summary === null || summary === undefined ? EMPTY : formatSignificant(summary.mean);
  });
  row(batches === undefined ? 'errors, direct / autobatch' : 'errors, direct / autobatch / client batches', (column) => {
    const cells = [errors(direct(column)), errors(proxied(column))];
    if (batches !== undefined) cells.push(errors(batched(column)));
    return cells.join(' / ');
  });

  const header = [
    batches === undefined ? 'clients (one input per request)' : 'inputs in flight',
    ...columns.map((column) => String(column.inFlight)),
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${['---', ...columns.map(() => '---:')].join(' | ')} |`];
  for (const cells of rows) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** The bench's own warnings (e.g. a saturated load generator), one Markdown bullet each. */
export function renderWarnings(comparison: Comparison): string[] {
  const reports = [comparison.individual, comparison.clientBatches].filter((report) => report !== undefined);
  return reports.flatMap((report) => report.warnings.map((warning) => `- ${warning}`));
}

/** The numbers of the table, for a JSON summary. */
export function comparisonSummary(comparison: Comparison): Array<Record<string, number | null>> {
  return columnsOf(comparison).map((column) => ({
    inputsInFlight: column.inFlight,
    directInputsPerSecond: column.individual?.baseline?.inputsPerSecond ?? null,
    autobatchInputsPerSecond: column.individual?.target.inputsPerSecond ?? null,
    autobatchOverDirect: column.individual?.ratios?.requestsPerSecond ?? null,
    clientBatchInputsPerSecond: column.clientBatch?.target.inputsPerSecond ?? null,
    directP50Ms: column.individual?.baseline?.latencyMs?.p50 ?? null,
    directP99Ms: column.individual?.baseline?.latencyMs?.p99 ?? null,
    autobatchP50Ms: column.individual?.target.latencyMs?.p50 ?? null,
    autobatchP99Ms: column.individual?.target.latencyMs?.p99 ?? null,
    clientBatchP50Ms: column.clientBatch?.target.latencyMs?.p50 ?? null,
    clientBatchP99Ms: column.clientBatch?.target.latencyMs?.p99 ?? null,
    meanUpstreamBatch: column.individual?.target.batchSize?.mean ?? null,
    errors:
      (column.individual?.baseline?.errorCount ?? 0) + (column.individual?.target.errorCount ?? 0) + (column.clientBatch?.target.errorCount ?? 0),
  }));
}
