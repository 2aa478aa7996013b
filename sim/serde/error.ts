/**
 * serde's and serde_json's error vocabulary, as TEI's rejection texts spell it: serde_json's
 * `Error` with its category and position, the path serde_path_to_error puts in front of it,
 * serde_json's `ErrorCode` texts, and serde's `de::Error` constructors with the way `Unexpected`
 * and `OneOf` are displayed. Kept apart from the parser because every layer of it (the reader,
 * the number parser, the deserializers, the request types) raises these errors.
 */

export type PathSegment =
  { readonly kind: 'seq'; readonly index: number } | { readonly kind: 'map'; readonly key: string } | { readonly kind: 'unknown' };

export type Chain = readonly PathSegment[];

/** serde_json's error categories that matter to axum: Syntax/Eof -> 400, Data -> 422. */
export type JsonErrorCategory = 'syntax' | 'data';

/** A serde_json error, with the path serde_path_to_error attaches to it. */
export class JsonDeError extends Error {
  line = 0;
  column = 0;
  path: Chain | undefined;

  constructor(
    readonly code: string,
    readonly category: JsonErrorCategory,
  ) {
    super(code);
  }

  /** serde_path_to_error's Display: `path: message at line L column C`. */
  display(): string {
    const position = this.line === 0 ? '' : ` at line ${this.line} column ${this.column}`;
    const path = this.path;
    const prefix = path === undefined || path.every((s) => s.kind === 'unknown') ? '' : `${formatPath(path)}: `;
    return `${prefix}${this.code}${position}`;
  }
}

export function formatPath(path: Chain): string {
  let out = '';
  let separator = '';
  for (const segment of path) {
    if (segment.kind !== 'seq') out += separator;
    if (segment.kind === 'seq') out += `[${segment.index}]`;
    else if (segment.kind === 'map') out += segment.key;
    else out += '?';
    separator = '.';
  }
  return out;
}

// serde_json ErrorCode texts.
export const EOF_WHILE_PARSING_LIST = 'EOF while parsing a list';
export const EOF_WHILE_PARSING_OBJECT = 'EOF while parsing an object';
export const EOF_WHILE_PARSING_STRING = 'EOF while parsing a string';
export const EOF_WHILE_PARSING_VALUE = 'EOF while parsing a value';
export const EXPECTED_COLON = 'expected `:`';
export const EXPECTED_LIST_COMMA_OR_END = 'expected `,` or `]`';
export const EXPECTED_OBJECT_COMMA_OR_END = 'expected `,` or `}`';
export const EXPECTED_SOME_IDENT = 'expected ident';
export const EXPECTED_SOME_VALUE = 'expected value';
export const INVALID_ESCAPE = 'invalid escape';
export const INVALID_NUMBER = 'invalid number';
export const NUMBER_OUT_OF_RANGE = 'number out of range';
export const INVALID_UNICODE_CODE_POINT = 'invalid unicode code point';
export const CONTROL_CHARACTER = 'control character (\\u0000-\\u001F) found while parsing a string';
export const KEY_MUST_BE_A_STRING = 'key must be a string';
export const LONE_LEADING_SURROGATE = 'lone leading surrogate in hex escape';
export const TRAILING_COMMA = 'trailing comma';
export const TRAILING_CHARACTERS = 'trailing characters';
export const UNEXPECTED_END_OF_HEX_ESCAPE = 'unexpected end of hex escape';
export const RECURSION_LIMIT_EXCEEDED = 'recursion limit exceeded';

const GRAPHEME_EXTEND = /\p{Grapheme_Extend}/u;
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Rust's `{:?}` for a str, which serde uses in `invalid type: string "..."`. */
export function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '\0':
        out += '\\0';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '"':
        out += '\\"';
        continue;
      default:
    }
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code < 0x7f) {
      out += ch;
    } else if (GRAPHEME_EXTEND.test(ch) || (ch !== ' ' && NOT_PRINTABLE.test(ch))) {
      out += `\\u{${code.toString(16)}}`;
    } else {
      out += ch;
    }
  }
  return `${out}"`;
}

export function invalidType(unexpected: string, expected: string): JsonDeError {
  return custom(`invalid type: ${unexpected}, expected ${expected}`);
}

export function invalidValue(unexpected: string, expected: string): JsonDeError {
  return custom(`invalid value: ${unexpected}, expected ${expected}`);
}

export function invalidLength(length: number, expected: string): JsonDeError {
  return custom(`invalid length ${length}, expected ${expected}`);
}

/** `de::Error::custom`: a data error without a position (serde_json fills it in later). */
export function custom(message: string): JsonDeError {
  return new JsonDeError(message, 'data');
}

/** serde's `OneOf` list of expected names. */
export function oneOf(names: readonly string[]): string {
  if (names.length === 1) return `\`${names[0]}\``;
  if (names.length === 2) return `\`${names[0]}\` or \`${names[1]}\``;
  return `one of ${names.map((n) => `\`${n}\``).join(', ')}`;
}
