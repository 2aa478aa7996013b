// The programmatic face of `autobatch bench`, for benchmark scripts that drive it without the CLI.
export {
  BENCH_DEFAULTS,
  BenchOptionError,
  levelLabel,
  resolveBenchOptions,
  type BenchLevel,
  type BenchOptions,
  type ResolvedBenchOptions,
} from './bench-options.js';
export type { BenchReport, LevelRatios, LevelReport, MachineInfo, ReportedOptions, TargetRun } from './bench-report.js';
export { BATCH_SIZE_HEADER, type TargetRole } from './bench-target.js';
export type { Clock } from '../core/clock.js';
export { createBenchCommand, type BenchCommandIo } from './command.js';
export { BUILT_IN_CORPUS } from './corpus.js';
export type { LatencySummary } from './latency-histogram.js';
export type { BatchSizeSummary, LevelMeasurement } from './level-recorder.js';
export { renderJsonReport } from './report-json.js';
export { formatSignificant, renderMarkdownReport } from './report-markdown.js';
export { chartSpec, renderSvgChart } from './report-svg.js';
export { routeShapeFor, type RouteKind, type RouteShape } from './route-shapes.js';
export { BenchUnreachableError, runBench, type BenchHooks, type BenchProgress } from './run-bench.js';
