// Durations as other load tools take them (oha `-z 30s`, k6 `--duration 1m30s`, wrk `-d 2m`), so
// a command line copied from one of them works here: a number with a unit (ms, s, m, h), several
// in a row as in Go and k6 ("1m30s"), or a bare number, which stays seconds as it always was here.
//
// Hand-written rather than the `ms` package: `ms` reads a bare number as milliseconds and has no
// compound form ("1m30s"), and both would silently change what an existing command line means.

/** In milliseconds, so "500ms" is exactly 0.5 s (0.001 has no exact binary form). */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const BARE_NUMBER = /^\d+(?:\.\d+)?$|^\.\d+$/;
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;

/**
 * Seconds in a duration such as "30s", "500ms", "2m", "1m30s", "1.5h" or "10" (seconds); undefined
 * when the text is not one. Negative durations and unknown units are not durations.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (BARE_NUMBER.test(trimmed)) return Number(trimmed);
  if (trimmed === '') return undefined;
  let milliseconds = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (match === null || match.index !== start) return undefined;
    milliseconds += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return milliseconds / 1000;
}
