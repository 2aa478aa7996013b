/**
 * Holding each body's bytes about once while it waits. A rule hands back each input as its own
 * JSON text (JSON.stringify of the parsed value), a copy of the body's bytes; with the body kept
 * for a possible replay, every queued input was held twice, plus whatever the parse left alive
 * (issue 12 measured 3.5 bytes of RSS per byte held). Here each input's text is swapped for an
 * equal substring of the body's own decoded text: V8 keeps a substring of a long string as a
 * slice of it (no copy), so the inputs and the body share one copy of the bytes, and the copies
 * become garbage at once. The text sent upstream is the same string, character for character.
 *
 * Inputs appear in the body in order, so each is looked for after the previous one; an input
 * whose text differs from the body's (other escapes or spacing, e.g. `"\u0041"` or `[1, 2]`)
 * is not found, and from there on the copies are kept: each search then scans at most the rest
 * of the body once, never once per input.
 */

/** V8 copies substrings shorter than this (SlicedString::kMinLength): nothing to share. */
const MIN_SHARED_LENGTH = 13;

/** Replaces, in place, each of `items` with an equal substring of `source` where one is found. */
export function shareSourceText(source: string, items: string[]): void {
  let from = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.length < MIN_SHARED_LENGTH) continue;
    const at = source.indexOf(item, from);
    if (at < 0) return;
    items[i] = source.slice(at, at + item.length);
    from = at + item.length;
  }
}
