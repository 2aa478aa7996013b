// The report as JSON (what --json writes): every option, the machine, and per level and side
// the full measurement including the encoded latency histogram, so runs can be compared later.
import type { BenchReport } from './bench-report.js';

export function renderJsonReport(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
