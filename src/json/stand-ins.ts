/**
 * A big JSON body read without copying its long strings. JSON.parse of a whole body copies every
 * string in it, and a rule's JSON.stringify of each input copies it again: short-lived copies of
 * the body that V8 frees only at its next collection, which while a flood of big bodies waits
 * made RSS about twice what was held (issue 12, docs/memory.md). Here each long string value
 * is checked where it lies, in the body's bytes, and replaced, in the text given to JSON.parse, by
 * a short stand-in string; the rest of the body is parsed as before. Whatever the rule makes of
 * the parsed body, an input that is a stand-in is the body's own bytes for that string.
 *
 * Only a string whose text is the one JSON.stringify writes for its value is stood in for (valid
 * UTF-8, no control character, no escape but `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`): its bytes
 * are then exactly what the rule would have produced, so the upstream is sent the same bytes as
 * before. Other strings (`\u0041`, `\/`, a raw control character that makes the body invalid)
 * stay in the text JSON.parse reads, which judges them as it always did.
 *
 * A stand-in is `"\u0000<n>"`: a NUL can only come from a `\u0000` escape, so when the body holds
 * none (see `standInsFor`), a `\u0000` in a rule's output is a stand-in and nothing else.
 */
import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Strings shorter than this are left in the text: standing in for them saves nothing worth it. */
export const MIN_STOOD_IN_BYTES = 1024;

/** The escapes JSON.stringify writes itself (after the backslash): `"`, `\`, b, f, n, r, t. */
const CANONICAL_ESCAPE = new Uint8Array(256);
for (const char of '"\\bfnrt') CANONICAL_ESCAPE[char.charCodeAt(0)] = 1;

/** What a stand-in looks like in a rule's output (and in the text given to JSON.parse). */
export const STAND_IN_MARK = '\\u0000';
const MARK_BYTES = Buffer.from(STAND_IN_MARK);

export interface StandIns {
  /** The body's text with each long string replaced by its stand-in. */
  readonly text: string;
  /** Where each stood-in string lies in the body: [start, end) of stand-in n at 2n, 2n + 1 (quotes included). */
  readonly spans: readonly number[];
}

export function standInText(n: number): string {
  return `"${STAND_IN_MARK}${n}"`;
}

/**
 * Position just after the string that opens at `at` (-1 when it does not close), and whether its
 * text is canonical (see above).
 */
function scanString(bytes: Uint8Array, at: number): { end: number; canonical: boolean } {
  let canonical = true;
  for (let i = at + 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return { end: i + 1, canonical };
    if (byte === BACKSLASH) {
      i++;
      if (CANONICAL_ESCAPE[bytes[i] ?? 0] !== 1) canonical = false;
    } else if (byte < 0x20) {
      canonical = false;
    }
  }
  return { end: -1, canonical: false };
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * The body's text with its long canonical string values stood in for, or undefined when there is
 * none, when the body already holds a `\u0000` (a stand-in could not be told from it), or when
 * its bytes are not valid UTF-8 (the caller's own decoding judges those).
 */
export function standInsFor(body: Buffer): StandIns | undefined {
  if (body.length < MIN_STOOD_IN_BYTES || body.indexOf(MARK_BYTES) >= 0) return undefined;
  const spans: number[] = [];
  // Outside strings, a quote always opens one.
  let at = body.indexOf(QUOTE);
  while (at >= 0) {
    const { end, canonical } = scanString(body, at);
    if (end < 0) break;
    if (end - at >= MIN_STOOD_IN_BYTES && canonical) {
      let next = end;
      while (isWhitespace(body[next])) next++;
      // A key stays: the rule looks fields up by name.
      if (body[next] !== COLON && isUtf8(body.subarray(at, end))) spans.push(at, end);
    }
    at = body.indexOf(QUOTE, end);
  }
  if (spans.length === 0) return undefined;
  const parts: string[] = [];
  let from = 0;
  try {
    for (let n = 0; n < spans.length / 2; n++) {
      parts.push(decode(body, from, spans[2 * n]!), standInText(n));
      from = spans[2 * n + 1]!;
    }
    parts.push(decode(body, from, body.length));
  } catch {
    return undefined;
  }
  return { text: parts.join(''), spans };
}

/** The body's first bytes lose a byte-order mark, as with a whole-body decode; later ones keep theirs. */
const first = new TextDecoder('utf-8', { fatal: true });
const later = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(body: Buffer, from: number, to: number): string {
  return (from === 0 ? first : later).decode(body.subarray(from, to));
}
