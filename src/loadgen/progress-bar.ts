// A one-line progress display on a terminal (stderr), so the Markdown on stdout stays clean
// for redirection. Used only when stderr is a TTY.
import type { BenchProgress } from './run-bench.js';

/** The text of the progress line for a terminal `columns` wide. */
export function formatProgressLine(progress: BenchProgress, columns: number): string {
  const fraction = progress.plannedSeconds > 0 ? Math.min(progress.elapsedSeconds / progress.plannedSeconds, 1) : 1;
  const head = `[${progress.runIndex + 1}/${progress.runCount}] ${progress.levelLabel} ${progress.role} ${progress.phase.padEnd(7)}`;
  const tail = `${progress.elapsedSeconds.toFixed(1)}/${progress.plannedSeconds} s  ${progress.requestsOk} ok  ${progress.errors} errors`;
  const barWidth = Math.max(0, Math.min(30, columns - head.length - tail.length - 4));
  const filled = Math.round(fraction * barWidth);
  const bar = barWidth > 0 ? ` ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ` : ' ';
  return `${head}${bar}${tail}`.slice(0, Math.max(columns - 1, 0));
}

export interface ProgressStream {
  write(text: string): boolean;
  readonly columns?: number | undefined;
}

export class ProgressBar {
  readonly #stream: ProgressStream;
  #shown = false;

  constructor(stream: ProgressStream) {
    this.#stream = stream;
  }

  update(progress: BenchProgress): void {
    this.#stream.write(`\r${formatProgressLine(progress, this.#stream.columns ?? 80)}\x1b[K`);
    this.#shown = true;
  }

  /** Prints a line of text above the progress line. */
  print(text: string): void {
    this.clear();
    this.#stream.write(`${text}\n`);
  }

  clear(): void {
    if (!this.#shown) return;
    this.#stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
