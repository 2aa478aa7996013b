/**
 * Finds value boundaries in JSON text without parsing it. The proxy cuts an upstream answer into
 * per-client answers with these ranges, so every client receives the upstream's own bytes for
 * its elements: floats are never parsed and re-printed (which would cost ~10x more CPU than
 * the scan and could change their spelling).
 *
 * The scanner trusts the upstream to send valid JSON; it checks structure only as far as needed
 * to find boundaries, and answers `undefined` where the text does not have the expected shape.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipWhitespace(text: Uint8Array, at: number, end: number): number {
  while (at < end && isWhitespace(text[at]!)) at++;
  return at;
}

/** Position just after the string that opens at `at`, or -1. */
function skipString(text: Uint8Array, at: number, end: number): number {
  for (let i = at + 1; i < end; i++) {
    const byte = text[i]!;
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i + 1;
  }
  return -1;
}

function startsNumber(byte: number): boolean {
  return byte === 0x2d || (byte >= 0x30 && byte <= 0x39);
}

/**
 * Position just after the array that opens at `at` when it holds numbers only, found with
 * native byte searches (memchr) instead of a byte loop: the hot path for embedding vectors.
 * Answers -1 when the shortcut does not apply.
 */
function skipNumberArray(text: Uint8Array, at: number, end: number): number {
  const first = skipWhitespace(text, at + 1, end);
  if (first >= end || !startsNumber(text[first]!)) return -1;
  const close = text.indexOf(CLOSE_BRACKET, first);
  if (close < 0 || close >= end) return -1;
  // Numbers contain none of these; finding one means the array is not numbers only.
  const body = text.subarray(first, close);
  if (body.indexOf(QUOTE) >= 0 || body.indexOf(OPEN_BRACKET) >= 0 || body.indexOf(OPEN_BRACE) >= 0) {
    return -1;
  }
  return close + 1;
}

/** Position just after the JSON value that starts at `at` (no leading whitespace), or -1. */
export function skipValue(text: Uint8Array, at: number, end: number): number {
  const first = text[at];
  if (first === undefined || at >= end) return -1;
  if (first === QUOTE) return skipString(text, at, end);
  if (first === OPEN_BRACKET || first === OPEN_BRACE) {
    if (first === OPEN_BRACKET) {
      const fast = skipNumberArray(text, at, end);
      if (fast >= 0) return fast;
    }
    let depth = 0;
    for (let i = at; i < end; i++) {
      const byte = text[i]!;
      if (byte === QUOTE) {
        const after = skipString(text, i, end);
        if (after < 0) return -1;
        i = after - 1;
      } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
        depth++;
      } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number or a literal runs to the next delimiter.
  let i = at;
  while (i < end) {
    const byte = text[i]!;
    if (byte === COMMA || byte === CLOSE_BRACKET || byte === CLOSE_BRACE || isWhitespace(byte)) break;
    i++;
  }
  return i > at ? i : -1;
}

/**
 * Start and end offsets of each element of the array that begins at `at` (after optional
 * whitespace), as a flat list [start0, end0, start1, end1, ...], or undefined.
 */
export function arrayElements(text: Uint8Array, at = 0, end = text.length): number[] | undefined {
  let i = skipWhitespace(text, at, end);
  if (text[i] !== OPEN_BRACKET) return undefined;
  const ranges: number[] = [];
  i = skipWhitespace(text, i + 1, end);
  if (text[i] === CLOSE_BRACKET) return ranges;
  for (;;) {
    const after = skipValue(text, i, end);
    if (after < 0) return undefined;
    ranges.push(i, after);
    i = skipWhitespace(text, after, end);
    const byte = text[i];
    if (byte === CLOSE_BRACKET) return ranges;
    if (byte !== COMMA) return undefined;
    i = skipWhitespace(text, i + 1, end);
  }
}

export interface MemberRange {
  /** The key, decoded (keys in the answers we cut are plain ASCII names). */
  key: string;
  /** Where the key's string starts (at its opening quote) and ends (after its closing quote). */
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** The members of the object that begins at `at` (after optional whitespace), or undefined. */
export function objectMembers(text: Uint8Array, at = 0, end = text.length): MemberRange[] | undefined {
  let i = skipWhitespace(text, at, end);
  if (text[i] !== OPEN_BRACE) return undefined;
  const members: MemberRange[] = [];
  i = skipWhitespace(text, i + 1, end);
  if (text[i] === CLOSE_BRACE) return members;
  for (;;) {
    if (text[i] !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = skipString(text, i, end);
    if (keyEnd < 0) return undefined;
    const key = Buffer.from(text.buffer, text.byteOffset + i + 1, keyEnd - i - 2).toString('latin1');
    i = skipWhitespace(text, keyEnd, end);
    if (text[i] !== COLON) return undefined;
    i = skipWhitespace(text, i + 1, end);
    const valueEnd = skipValue(text, i, end);
    if (valueEnd < 0) return undefined;
    members.push({ key, keyStart, keyEnd, valueStart: i, valueEnd });
    i = skipWhitespace(text, valueEnd, end);
    const byte = text[i];
    if (byte === CLOSE_BRACE) return members;
    if (byte !== COMMA) return undefined;
    i = skipWhitespace(text, i + 1, end);
  }
}

/**
 * The first key that appears twice among the members of the object that is the whole of `text`,
 * or undefined. JSON.parse keeps the last value of a repeated key; serde, and so TEI, refuses
 * the body, so the proxy must notice before it answers for a value TEI would never have read.
 * Keys are compared decoded ("\u0069nputs" is "inputs"). Costs a scan of the text, about a
 * quarter of JSON.parse on large bodies and under a microsecond on a one-input request.
 */
export function duplicateKey(text: Uint8Array): string | undefined {
  const members = objectMembers(text);
  if (members === undefined || members.length < 2) return undefined;
  const seen = new Set<string>();
  for (const member of members) {
    const raw = Buffer.from(text.buffer, text.byteOffset + member.keyStart, member.keyEnd - member.keyStart);
    const key = raw.includes(BACKSLASH) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('utf8', 1, raw.length - 1);
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}
