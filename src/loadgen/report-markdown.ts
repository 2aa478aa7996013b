// The report as Markdown: one table row per level and side, with the side-by-side ratios that
// are the point of the run, and the notes a reader needs to trust (or distrust) the numbers.
import type { BenchReport, TargetRun } from './bench-report.js';

/** 3 significant digits, no exponent: 0.412, 1.92, 12.3, 123, 12345. */
export function formatSignificant(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toString();
  const decimals = abs >= 10 ? 1 : abs >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(abs)));
  return value.toFixed(decimals);
}

function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${value.toFixed(2)}×`;
}

function formatErrors(run: TargetRun): string {
  if (run.errorCount === 0) return '0';
  const kinds = Object.entries(run.errors).map(([kind, count]) => `${kind}: ${count}`);
  return `${run.errorCount} (${kinds.join(', ')})`;
}

function latencyCells(run: TargetRun): string[] {
  const latency = run.latencyMs;
  if (latency === null) return ['–', '–', '–', '–'];
  return [latency.p50, latency.p90, latency.p99, latency.max].map(formatSignificant);
}

/** Keeps text from a server from breaking the Markdown around it. */
function inlineCode(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\s+/g, ' ')}\``;
}

export function renderMarkdownReport(report: BenchReport): string {
  const { options, machine } = report;
  const hasBaseline = options.baseline !== null;
  const lines: string[] = [];

  lines.push(`## autobatch bench: POST ${options.route}`, '');
  lines.push(`- target: ${options.url}`);
  if (hasBaseline) lines.push(`- baseline: ${options.baseline}`);
  const loop =
    options.mode === 'closed'
      ? 'closed loop (each client waits for its answer before sending again)'
      : `open loop (fixed request rate, latency from the intended send time, at most ${options.maxOutstanding} outstanding)`;
  lines.push(`- ${loop}`);
  lines.push(
    `- ${options.inputsPerRequest} input(s) per request from ${options.textsSource} (${options.textCount} texts); ` +
      `${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up, per level and side; timeout ${options.timeoutMs} ms`,
  );
  lines.push(
    `- machine: node ${machine.node}, ${machine.cores} × ${machine.cpuModel}, load average ${machine.loadAverage.join(' / ')}; ` +
      `started ${report.startedAt}`,
  );
  lines.push('');

  const header = ['level', 'side', 'req/s', 'inputs/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'mean batch'];
  const align = ['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---:'];
  if (hasBaseline) {
    header.push('req/s ratio', 'p50 ratio', 'p99 ratio');
    align.push('---:', '---:', '---:');
  }
  lines.push(`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`);

  for (const level of report.levels) {
    // Target first in the table whatever order the sides ran in.
    const rows: TargetRun[] = level.baseline === null ? [level.target] : [level.target, level.baseline];
    for (const run of rows) {
      const cells = [
        level.label,
        run.role,
        formatSignificant(run.requestsPerSecond),
        formatSignificant(run.inputsPerSecond),
        ...latencyCells(run),
        formatErrors(run),
        run.batchSize === null ? '–' : formatSignificant(run.batchSize.mean),
      ];
      if (hasBaseline) {
        const ratios = run.role === 'target' ? level.ratios : null;
        cells.push(formatRatio(ratios?.requestsPerSecond), formatRatio(ratios?.p50), formatRatio(ratios?.p99));
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('');

  if (hasBaseline) {
    lines.push(
      'Ratios are target ÷ baseline, measured side by side in this run (the side that goes first alternates per level): ' +
        'a req/s ratio above 1 and latency ratios below 1 favour the target.',
    );
  }
  lines.push(
    'Requests/s and latency count correct answers only (status 200, one well-formed element per input); ' +
      'errors are counted by HTTP status or as network, timeout or wrong answer. ' +
      'Mean batch is the upstream batch size reported in x-autobatch-batch-size (– when absent).',
  );
  if (options.mode === 'open') {
    lines.push(
      `"dropped" errors are requests that fell due while ${options.maxOutstanding} requests were already outstanding, ` +
        'and so were never sent (--max-outstanding).',
    );
  }

  const samples: string[] = [];
  for (const level of report.levels) {
    for (const run of [level.target, level.baseline]) {
      if (run === null) continue;
      for (const sample of run.errorSamples) samples.push(`- ${level.label} ${run.role}: ${inlineCode(sample)}`);
    }
  }
  if (samples.length > 0) lines.push('', 'Errors seen (first few per run):', ...samples);
  if (report.warnings.length > 0) lines.push('', 'Warnings:', ...report.warnings.map((warning) => `- ${warning}`));
  lines.push('');
  return lines.join('\n');
}
