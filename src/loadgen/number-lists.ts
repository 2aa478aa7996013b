/**
 * A byte-level check of the commonest answer the bench reads, /embed's: a JSON list of lists of
 * finite numbers, all of one width. JSON.parse of such an answer built thousands of numbers only
 * for the bench to look at their type and count: 25-45 µs for one 384-wide vector, the largest
 * share of the load generator's own work per request, and the load generator shares the machine
 * with what it measures. This scan reads the bytes once and allocates nothing (but for a number
 * with an exponent, which it reads as a number to see that it is finite).
 *
 * It only ever says "this is such a list, of this shape" or "cannot tell": anything else (an
 * error object, a wrong shape, whitespace it does not expect, a number it cannot vouch for) goes
 * to JSON.parse and the route's full check, which words what is wrong. So it can make the bench
 * faster, never more lenient.
 */

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Integer digits past which a number might overflow to Infinity without an exponent (1.8e308). */
const MAX_PLAIN_DIGITS = 300;

export interface NumberListsShape {
  /** Lists in the outer list. */
  rows: number;
  /** Numbers in each (every row has this many; at least 1). */
  width: number;
}

/**
 * The shape of `body` when it is exactly `[[n,...],...]` (no whitespace) of finite JSON numbers
 * in rows of one non-zero width; undefined when it is anything else or the scan cannot vouch for
 * it. An empty outer list is 0 rows of width 0.
 *
 * Every read is within the body: it must end with `]`, which stops every run of digits, and the
 * one read that could pass the end (after a row) is bounded, so every byte read is a number
 * (a read past the end of a typed array gives undefined, and the loop's byte then has two types).
 * Measured on one 384-wide vector (4.6 kB): 8-12 µs, against 25-45 µs for JSON.parse.
 */
export function numberListsShape(body: Uint8Array): NumberListsShape | undefined {
  const end = body.length;
  if (end < 2 || body[0] !== OPEN || body[end - 1] !== CLOSE) return undefined;
  if (end === 2) return { rows: 0, width: 0 };
  let at = 1;
  let rows = 0;
  let width = -1;
  for (;;) {
    if (body[at] !== OPEN) return undefined;
    at++;
    let count = 0;
    for (;;) {
      const next = numberEnd(body, at);
      if (next < 0) return undefined;
      at = next;
      count++;
      const byte = body[at]!;
      at++;
      if (byte === COMMA) continue;
      if (byte === CLOSE) break;
      return undefined;
    }
    if (width === -1) width = count;
    else if (count !== width) return undefined;
    rows++;
    if (at >= end) return undefined;
    const byte = body[at]!;
    at++;
    if (byte === COMMA) continue;
    if (byte === CLOSE) return at === end ? { rows, width } : undefined;
    return undefined;
  }
}

/**
 * Where the JSON number starting at `start` ends (the index of the byte after it), when it is one
 * and certainly finite; else -1. The body ends with `]`, so no run of digits passes its end.
 */
function numberEnd(body: Uint8Array, start: number): number {
  let at = start;
  let c = body[at]!;
  if (c === MINUS) c = body[++at]!;
  const intStart = at;
  if (c === ZERO) c = body[++at]!;
  else {
    if (c < ZERO || c > NINE) return -1;
    do c = body[++at]!;
    while (c >= ZERO && c <= NINE);
  }
  // A huge integer part might be out of range: JSON.parse decides.
  if (at - intStart > MAX_PLAIN_DIGITS) return -1;
  if (c === DOT) {
    c = body[++at]!;
    if (c < ZERO || c > NINE) return -1;
    do c = body[++at]!;
    while (c >= ZERO && c <= NINE);
  }
  if (c === LOWER_E || c === UPPER_E) {
    c = body[++at]!;
    if (c === PLUS || c === MINUS) c = body[++at]!;
    if (c < ZERO || c > NINE) return -1;
    do c = body[++at]!;
    while (c >= ZERO && c <= NINE);
    // Rare (small floats), and the exponent may overflow: the token itself is read.
    if (!Number.isFinite(Number(Buffer.from(body.buffer, body.byteOffset + start, at - start).toString('latin1')))) return -1;
  }
  return at;
}
