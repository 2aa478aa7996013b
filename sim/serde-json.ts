/**
 * A byte-level JSON deserializer that fails exactly like TEI's request parsing.
 *
 * TEI parses bodies with axum's `Json` extractor: serde_json 1.0.140 (`Deserializer::from_slice`,
 * no `end()` call, so trailing bytes after the value are ignored) wrapped in serde_path_to_error
 * 0.1.17, feeding serde-derived types. Rejection texts quote serde_json's message, the path and
 * the byte position ("inputs: invalid type: ... at line 1 column 17"), and the position depends
 * on how far the parser had read when the error was raised. To reproduce those texts this file
 * mirrors serde_json's control flow function by function (de.rs and read.rs): the same peeks,
 * the same `fix_position` points, the same path triggers. Names follow the Rust source so the
 * two can be read side by side.
 */

import { isUtf8 } from 'node:buffer';
import { formatF64 } from './float-format.js';

export type PathSegment =
  | { readonly kind: 'seq'; readonly index: number }
  | { readonly kind: 'map'; readonly key: string }
  | { readonly kind: 'unknown' };

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
const EOF_WHILE_PARSING_LIST = 'EOF while parsing a list';
const EOF_WHILE_PARSING_OBJECT = 'EOF while parsing an object';
const EOF_WHILE_PARSING_STRING = 'EOF while parsing a string';
const EOF_WHILE_PARSING_VALUE = 'EOF while parsing a value';
const EXPECTED_COLON = 'expected `:`';
const EXPECTED_LIST_COMMA_OR_END = 'expected `,` or `]`';
const EXPECTED_OBJECT_COMMA_OR_END = 'expected `,` or `}`';
const EXPECTED_SOME_IDENT = 'expected ident';
const EXPECTED_SOME_VALUE = 'expected value';
const INVALID_ESCAPE = 'invalid escape';
const INVALID_NUMBER = 'invalid number';
const NUMBER_OUT_OF_RANGE = 'number out of range';
const INVALID_UNICODE_CODE_POINT = 'invalid unicode code point';
const CONTROL_CHARACTER = 'control character (\\u0000-\\u001F) found while parsing a string';
const KEY_MUST_BE_A_STRING = 'key must be a string';
const LONE_LEADING_SURROGATE = 'lone leading surrogate in hex escape';
const TRAILING_COMMA = 'trailing comma';
const TRAILING_CHARACTERS = 'trailing characters';
const UNEXPECTED_END_OF_HEX_ESCAPE = 'unexpected end of hex escape';
const RECURSION_LIMIT_EXCEEDED = 'recursion limit exceeded';

/** A number as serde_json's parser produced it (`ParserNumber`). Integers keep their digits. */
export type ParserNumber =
  | { readonly kind: 'u64'; readonly digits: string }
  | { readonly kind: 'i64'; readonly digits: string }
  | { readonly kind: 'f64'; readonly value: number };

/** serde's `Content`: the buffered value untagged enums try their variants against. */
export type Content =
  | { readonly t: 'unit' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'num'; readonly n: ParserNumber }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'seq'; readonly v: Content[] }
  | { readonly t: 'map'; readonly v: Array<[Content, Content]> };

/** Returned by `nextElement` when the sequence has ended. */
export const NONE: unique symbol = Symbol('none');
export type None = typeof NONE;

export interface SeqState {
  first: boolean;
  index: number;
}

export interface MapState {
  first: boolean;
}

const U64_MAX = '18446744073709551615';
const I64_MIN_MAGNITUDE = '9223372036854775808';
const U32_MAX = 4294967295;

// serde_json's POW10 table: correctly rounded literals.
const POW10: number[] = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Compares two digit strings without leading zeros as unsigned integers. */
function digitsGreater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** serde's `Unexpected` as serde_json displays it. */
export function unexpectedNumber(n: ParserNumber): string {
  if (n.kind === 'u64') return `integer \`${n.digits}\``;
  if (n.kind === 'i64') return `integer \`-${n.digits}\``;
  return `floating point \`${formatF64(n.value)}\``;
}

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

/** The reader and deserializer in one: serde_json's `Deserializer<SliceRead>`. */
export class SerdeJson {
  index = 0;
  private remainingDepth = 128;
  private readonly utf8Valid: boolean;
  private readonly buffer: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.utf8Valid = isUtf8(bytes);
  }

  // ---------------------------------------------------------------- read.rs

  peek(): number {
    return this.index < this.bytes.length ? (this.bytes[this.index] as number) : -1;
  }

  private peekOrNull(): number {
    const c = this.peek();
    return c < 0 ? 0 : c;
  }

  eat(): void {
    this.index += 1;
  }

  private next(): number {
    if (this.index < this.bytes.length) {
      const c = this.bytes[this.index] as number;
      this.index += 1;
      return c;
    }
    return -1;
  }

  private positioned(error: JsonDeError, i: number): JsonDeError {
    let startOfLine = 0;
    let line = 1;
    for (let j = 0; j < i; j += 1) {
      if (this.bytes[j] === 0x0a) {
        line += 1;
        startOfLine = j + 1;
      }
    }
    error.line = line;
    error.column = i - startOfLine;
    return error;
  }

  /** Error caused by a byte already consumed (serde_json `error`). */
  error(code: string): JsonDeError {
    return this.positioned(new JsonDeError(code, 'syntax'), this.index);
  }

  /** Error caused by the byte just peeked (serde_json `peek_error`). */
  peekError(code: string): JsonDeError {
    return this.positioned(new JsonDeError(code, 'syntax'), Math.min(this.bytes.length, this.index + 1));
  }

  /** serde_json `fix_position`: custom errors get the current position. */
  fixPosition(error: unknown): unknown {
    if (error instanceof JsonDeError && error.line === 0) this.positioned(error, this.index);
    return error;
  }

  /** serde_path_to_error's trigger: the innermost wrapper that sees an error names its path. */
  withPath<T>(chain: Chain, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof JsonDeError && error.path === undefined) error.path = chain;
      throw error;
    }
  }

  private checkRecursion(): void {
    this.remainingDepth -= 1;
    if (this.remainingDepth === 0) throw this.peekError(RECURSION_LIMIT_EXCEEDED);
  }

  private leaveRecursion(): void {
    this.remainingDepth += 1;
  }

  private skipToEscape(): void {
    const bytes = this.bytes;
    let i = this.index;
    while (i < bytes.length) {
      const c = bytes[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      i += 1;
    }
    this.index = i;
  }

  private decodeHexEscape(): number {
    if (this.index + 4 <= this.bytes.length) {
      const text = String.fromCharCode(
        this.bytes[this.index] as number,
        this.bytes[this.index + 1] as number,
        this.bytes[this.index + 2] as number,
        this.bytes[this.index + 3] as number,
      );
      this.index += 4;
      if (!/^[0-9a-fA-F]{4}$/.test(text)) throw this.error(INVALID_ESCAPE);
      return Number.parseInt(text, 16);
    }
    this.index = this.bytes.length;
    throw this.error(EOF_WHILE_PARSING_STRING);
  }

  private nextOrEof(): number {
    const c = this.next();
    if (c < 0) throw this.error(EOF_WHILE_PARSING_STRING);
    return c;
  }

  private peekOrEof(): number {
    const c = this.peek();
    if (c < 0) throw this.error(EOF_WHILE_PARSING_STRING);
    return c;
  }

  /** parse_escape with validate = true; returns the decoded text. */
  private parseEscape(): string {
    const ch = this.nextOrEof();
    switch (ch) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75:
        return this.parseUnicodeEscape();
      default:
        throw this.error(INVALID_ESCAPE);
    }
  }

  private parseUnicodeEscape(): string {
    const n = this.decodeHexEscape();
    if (n >= 0xdc00 && n <= 0xdfff) throw this.error(LONE_LEADING_SURROGATE);
    if (n < 0xd800 || n > 0xdbff) return String.fromCharCode(n);
    if (this.peekOrEof() === 0x5c) {
      this.eat();
    } else {
      this.eat();
      throw this.error(UNEXPECTED_END_OF_HEX_ESCAPE);
    }
    if (this.peekOrEof() === 0x75) {
      this.eat();
    } else {
      this.eat();
      throw this.error(UNEXPECTED_END_OF_HEX_ESCAPE);
    }
    const n2 = this.decodeHexEscape();
    if (n2 < 0xdc00 || n2 > 0xdfff) throw this.error(LONE_LEADING_SURROGATE);
    return String.fromCharCode(n, n2);
  }

  /** parse_str after the opening quote was consumed. */
  parseStr(): string {
    let start = this.index;
    let out = '';
    let rawValid = true;
    for (;;) {
      this.skipToEscape();
      if (this.index === this.bytes.length) throw this.error(EOF_WHILE_PARSING_STRING);
      const c = this.bytes[this.index] as number;
      if (c === 0x22) {
        if (!this.utf8Valid && !isUtf8(this.bytes.subarray(start, this.index))) rawValid = false;
        out += this.buffer.toString('utf8', start, this.index);
        this.index += 1;
        // as_str validates the whole string once the closing quote is read.
        if (!rawValid) throw this.error(INVALID_UNICODE_CODE_POINT);
        return out;
      }
      if (c === 0x5c) {
        if (!this.utf8Valid && !isUtf8(this.bytes.subarray(start, this.index))) rawValid = false;
        out += this.buffer.toString('utf8', start, this.index);
        this.index += 1;
        out += this.parseEscape();
        start = this.index;
        continue;
      }
      this.index += 1;
      throw this.error(CONTROL_CHARACTER);
    }
  }

  private ignoreStr(): void {
    for (;;) {
      this.skipToEscape();
      if (this.index === this.bytes.length) throw this.error(EOF_WHILE_PARSING_STRING);
      const c = this.bytes[this.index] as number;
      if (c === 0x22) {
        this.index += 1;
        return;
      }
      if (c === 0x5c) {
        this.index += 1;
        const ch = this.nextOrEof();
        if (ch === 0x75) this.decodeHexEscape();
        else if (![0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].includes(ch)) throw this.error(INVALID_ESCAPE);
        continue;
      }
      throw this.error(CONTROL_CHARACTER);
    }
  }

  // ---------------------------------------------------------------- de.rs: scanning

  parseWhitespace(): number {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) this.eat();
      else return c;
    }
  }

  private parseIdent(rest: string): void {
    for (let i = 0; i < rest.length; i += 1) {
      const c = this.next();
      if (c < 0) throw this.error(EOF_WHILE_PARSING_VALUE);
      if (c !== rest.charCodeAt(i)) throw this.error(EXPECTED_SOME_IDENT);
    }
  }

  /** parse_integer / parse_any_number (the first byte, after any '-', not yet consumed). */
  parseAnyNumber(positive: boolean): ParserNumber {
    const next = this.next();
    if (next < 0) throw this.error(EOF_WHILE_PARSING_VALUE);
    if (next === 0x30) {
      if (isDigit(this.peekOrNull())) throw this.peekError(INVALID_NUMBER);
      return this.parseNumber(positive, '');
    }
    if (next > 0x30 && next <= 0x39) {
      let significand = String.fromCharCode(next);
      for (;;) {
        const c = this.peekOrNull();
        if (!isDigit(c)) return this.parseNumber(positive, significand);
        const grown = significand + String.fromCharCode(c);
        if (digitsGreater(grown, U64_MAX)) return { kind: 'f64', value: this.parseLongInteger(positive, significand) };
        this.eat();
        significand = grown;
      }
    }
    throw this.error(INVALID_NUMBER);
  }

  /** `significand` holds digits without leading zeros ('' is zero). */
  private parseNumber(positive: boolean, significand: string): ParserNumber {
    const c = this.peekOrNull();
    if (c === 0x2e) return { kind: 'f64', value: this.parseDecimal(positive, significand, 0) };
    if (c === 0x65 || c === 0x45) return { kind: 'f64', value: this.parseExponent(positive, significand, 0) };
    if (positive) return { kind: 'u64', digits: significand === '' ? '0' : significand };
    // Convert into a float on `-0` or when the magnitude does not fit an i64.
    if (significand === '' || digitsGreater(significand, I64_MIN_MAGNITUDE)) {
      return { kind: 'f64', value: -this.significandValue(significand) };
    }
    return { kind: 'i64', digits: significand };
  }

  private significandValue(significand: string): number {
    // Number() of a digit string is correctly rounded, like Rust's `u64 as f64`.
    return significand === '' ? 0 : Number(significand);
  }

  private parseDecimal(positive: boolean, significandIn: string, exponentBeforeDecimalPoint: number): number {
    let significand = significandIn;
    this.eat();
    let exponentAfterDecimalPoint = 0;
    for (;;) {
      const c = this.peekOrNull();
      if (!isDigit(c)) break;
      const grown = significand === '' ? (c === 0x30 ? '' : String.fromCharCode(c)) : significand + String.fromCharCode(c);
      if (digitsGreater(grown, U64_MAX)) {
        return this.parseDecimalOverflow(positive, significand, exponentBeforeDecimalPoint + exponentAfterDecimalPoint);
      }
      this.eat();
      significand = grown;
      exponentAfterDecimalPoint -= 1;
    }
    if (exponentAfterDecimalPoint === 0) {
      if (this.peek() >= 0) throw this.peekError(INVALID_NUMBER);
      throw this.peekError(EOF_WHILE_PARSING_VALUE);
    }
    const exponent = exponentBeforeDecimalPoint + exponentAfterDecimalPoint;
    const c = this.peekOrNull();
    if (c === 0x65 || c === 0x45) return this.parseExponent(positive, significand, exponent);
    return this.f64FromParts(positive, significand, exponent);
  }

  private parseExponent(positive: boolean, significand: string, startingExp: number): number {
    this.eat();
    let positiveExp = true;
    const sign = this.peekOrNull();
    if (sign === 0x2b) {
      this.eat();
    } else if (sign === 0x2d) {
      this.eat();
      positiveExp = false;
    }
    const next = this.next();
    if (next < 0) throw this.error(EOF_WHILE_PARSING_VALUE);
    if (!isDigit(next)) throw this.error(INVALID_NUMBER);
    let exp = next - 0x30;
    for (;;) {
      const c = this.peekOrNull();
      if (!isDigit(c)) break;
      this.eat();
      const digit = c - 0x30;
      if (exp > 214748364 || (exp === 214748364 && digit > 7)) {
        return this.parseExponentOverflow(positive, significand === '', positiveExp);
      }
      exp = exp * 10 + digit;
    }
    const finalExp = positiveExp ? Math.min(2147483647, startingExp + exp) : Math.max(-2147483648, startingExp - exp);
    return this.f64FromParts(positive, significand, finalExp);
  }

  private parseExponentOverflow(positive: boolean, zeroSignificand: boolean, positiveExp: boolean): number {
    if (!zeroSignificand && positiveExp) throw this.error(NUMBER_OUT_OF_RANGE);
    while (isDigit(this.peekOrNull())) this.eat();
    return positive ? 0 : -0;
  }

  private f64FromParts(positive: boolean, significand: string, exponentIn: number): number {
    let exponent = exponentIn;
    let f = this.significandValue(significand);
    for (;;) {
      const pow = POW10[Math.abs(exponent)];
      if (pow !== undefined) {
        if (exponent >= 0) {
          f *= pow;
          if (!Number.isFinite(f)) throw this.error(NUMBER_OUT_OF_RANGE);
        } else {
          f /= pow;
        }
        break;
      }
      if (f === 0) break;
      if (exponent >= 0) throw this.error(NUMBER_OUT_OF_RANGE);
      f /= 1e308;
      exponent += 308;
    }
    return positive ? f : -f;
  }

  private parseLongInteger(positive: boolean, significand: string): number {
    let exponent = 0;
    for (;;) {
      const c = this.peekOrNull();
      if (isDigit(c)) {
        this.eat();
        exponent += 1;
      } else if (c === 0x2e) {
        return this.parseDecimal(positive, significand, exponent);
      } else if (c === 0x65 || c === 0x45) {
        return this.parseExponent(positive, significand, exponent);
      } else {
        return this.f64FromParts(positive, significand, exponent);
      }
    }
  }

  private parseDecimalOverflow(positive: boolean, significand: string, exponent: number): number {
    while (isDigit(this.peekOrNull())) this.eat();
    const c = this.peekOrNull();
    if (c === 0x65 || c === 0x45) return this.parseExponent(positive, significand, exponent);
    return this.f64FromParts(positive, significand, exponent);
  }

  private parseObjectColon(): void {
    const c = this.parseWhitespace();
    if (c === 0x3a) {
      this.eat();
      return;
    }
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
    throw this.peekError(EXPECTED_COLON);
  }

  private endSeq(): void {
    const c = this.parseWhitespace();
    if (c === 0x5d) {
      this.eat();
      return;
    }
    if (c === 0x2c) {
      this.eat();
      if (this.parseWhitespace() === 0x5d) throw this.peekError(TRAILING_COMMA);
      throw this.peekError(TRAILING_CHARACTERS);
    }
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_LIST);
    throw this.peekError(TRAILING_CHARACTERS);
  }

  private endMap(): void {
    const c = this.parseWhitespace();
    if (c === 0x7d) {
      this.eat();
      return;
    }
    if (c === 0x2c) throw this.peekError(TRAILING_COMMA);
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
    throw this.peekError(TRAILING_CHARACTERS);
  }

  /** ignore_value: skips any value (IgnoredAny), checking its syntax but not its strings' UTF-8. */
  ignoreValue(): void {
    const frames: number[] = [];
    let enclosing: number | undefined;
    for (;;) {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      let frame: number | undefined;
      switch (peek) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          break;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          break;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          break;
        case 0x2d:
          this.eat();
          this.ignoreInteger();
          break;
        case 0x22:
          this.eat();
          this.ignoreStr();
          break;
        case 0x5b:
        case 0x7b:
          if (enclosing !== undefined) frames.push(enclosing);
          enclosing = undefined;
          this.eat();
          frame = peek;
          break;
        default:
          if (isDigit(peek)) {
            this.ignoreInteger();
            break;
          }
          throw this.peekError(EXPECTED_SOME_VALUE);
      }

      let acceptComma: boolean;
      let current: number;
      if (frame !== undefined) {
        acceptComma = false;
        current = frame;
      } else if (enclosing !== undefined) {
        acceptComma = true;
        current = enclosing;
        enclosing = undefined;
      } else {
        const popped = frames.pop();
        if (popped === undefined) return;
        acceptComma = true;
        current = popped;
      }

      for (;;) {
        const c = this.parseWhitespace();
        if (c === 0x2c && acceptComma) {
          this.eat();
          break;
        } else if ((c === 0x5d && current === 0x5b) || (c === 0x7d && current === 0x7b)) {
          // closes the current frame
        } else if (c >= 0) {
          if (acceptComma) {
            throw this.peekError(current === 0x5b ? EXPECTED_LIST_COMMA_OR_END : EXPECTED_OBJECT_COMMA_OR_END);
          }
          break;
        } else {
          throw this.peekError(current === 0x5b ? EOF_WHILE_PARSING_LIST : EOF_WHILE_PARSING_OBJECT);
        }
        this.eat();
        const popped = frames.pop();
        if (popped === undefined) return;
        current = popped;
        acceptComma = true;
      }

      if (current === 0x7b) {
        const c = this.parseWhitespace();
        if (c === 0x22) this.eat();
        else if (c >= 0) throw this.peekError(KEY_MUST_BE_A_STRING);
        else throw this.peekError(EOF_WHILE_PARSING_OBJECT);
        this.ignoreStr();
        const colon = this.parseWhitespace();
        if (colon === 0x3a) this.eat();
        else if (colon >= 0) throw this.peekError(EXPECTED_COLON);
        else throw this.peekError(EOF_WHILE_PARSING_OBJECT);
      }
      enclosing = current;
    }
  }

  private ignoreInteger(): void {
    const c = this.next();
    if (c === 0x30) {
      if (isDigit(this.peekOrNull())) throw this.peekError(INVALID_NUMBER);
    } else if (c > 0x30 && c <= 0x39) {
      while (isDigit(this.peekOrNull())) this.eat();
    } else {
      throw this.error(INVALID_NUMBER);
    }
    const p = this.peekOrNull();
    if (p === 0x2e) this.ignoreDecimal();
    else if (p === 0x65 || p === 0x45) this.ignoreExponent();
  }

  private ignoreDecimal(): void {
    this.eat();
    let atLeastOneDigit = false;
    while (isDigit(this.peekOrNull())) {
      this.eat();
      atLeastOneDigit = true;
    }
    if (!atLeastOneDigit) throw this.peekError(INVALID_NUMBER);
    const p = this.peekOrNull();
    if (p === 0x65 || p === 0x45) this.ignoreExponent();
  }

  private ignoreExponent(): void {
    this.eat();
    const p = this.peekOrNull();
    if (p === 0x2b || p === 0x2d) this.eat();
    const c = this.next();
    if (!isDigit(c)) throw this.error(INVALID_NUMBER);
    while (isDigit(this.peekOrNull())) this.eat();
  }

  /** peek_invalid_type: reads the offending value to name it in the message. */
  peekInvalidType(expected: string): unknown {
    const c = this.peekOrNull();
    let error: JsonDeError;
    try {
      switch (c) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          error = invalidType('null', expected);
          break;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          error = invalidType('boolean `true`', expected);
          break;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          error = invalidType('boolean `false`', expected);
          break;
        case 0x2d:
          this.eat();
          error = invalidType(unexpectedNumber(this.parseAnyNumber(false)), expected);
          break;
        case 0x22:
          this.eat();
          error = invalidType(`string ${rustDebugString(this.parseStr())}`, expected);
          break;
        case 0x5b:
          error = invalidType('sequence', expected);
          break;
        case 0x7b:
          error = invalidType('map', expected);
          break;
        default:
          if (isDigit(c)) {
            error = invalidType(unexpectedNumber(this.parseAnyNumber(true)), expected);
            break;
          }
          return this.peekError(EXPECTED_SOME_VALUE);
      }
    } catch (scanError) {
      return scanError;
    }
    return this.fixPosition(error);
  }

  // ---------------------------------------------------------------- de.rs: Deserializer impl

  /**
   * The shape shared by deserialize_seq/map/struct/any for '[' and '{': visit, then always run
   * end_seq/end_map (Rust evaluates both halves of the tuple), first error wins, then
   * fix_position.
   */
  private compound<T>(open: number, visit: () => T): T {
    this.checkRecursion();
    this.eat();
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      result = visit();
    } catch (error) {
      failure = error;
      failed = true;
    }
    this.leaveRecursion();
    try {
      if (open === 0x5b) this.endSeq();
      else this.endMap();
    } catch (error) {
      if (!failed) {
        failure = error;
        failed = true;
      }
    }
    if (failed) throw this.fixPosition(failure);
    return result as T;
  }

  deserializeBool(chain: Chain, expected = 'a boolean'): boolean {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x74) {
        this.eat();
        this.parseIdent('rue');
        return true;
      }
      if (peek === 0x66) {
        this.eat();
        this.parseIdent('alse');
        return false;
      }
      throw this.fixPosition(this.peekInvalidType(expected));
    });
  }

  /** deserialize_option: null is None, anything else is deserialized as Some(T). */
  deserializeOption<T>(chain: Chain, some: (chain: Chain) => T): T | null {
    const peek = this.withPath(chain, () => this.parseWhitespace());
    if (peek === 0x6e) {
      return this.withPath(chain, () => {
        this.eat();
        this.parseIdent('ull');
        return null;
      });
    }
    return some(chain);
  }

  /** deserialize_u64 for a `usize`: returns the value (exact below 2^53). */
  deserializeUsize(chain: Chain): number {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      let n: ParserNumber;
      if (peek === 0x2d) {
        this.eat();
        n = this.parseAnyNumber(false);
      } else if (isDigit(peek)) {
        n = this.parseAnyNumber(true);
      } else {
        throw this.fixPosition(this.peekInvalidType('usize'));
      }
      if (n.kind === 'u64') return Number(n.digits);
      if (n.kind === 'i64') throw this.fixPosition(invalidValue(unexpectedNumber(n), 'usize'));
      throw this.fixPosition(invalidType(unexpectedNumber(n), 'usize'));
    });
  }

  deserializeString(chain: Chain, expected = 'a string'): string {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x22) {
        this.eat();
        return this.parseStr();
      }
      throw this.fixPosition(this.peekInvalidType(expected));
    });
  }

  /** A string matched against fixed names: an enum variant identifier. */
  private deserializeIdentifier(chain: Chain, accept: (name: string) => JsonDeError | undefined): string {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x22) {
        this.eat();
        const name = this.parseStr();
        const error = accept(name);
        if (error !== undefined) throw this.fixPosition(error);
        return name;
      }
      throw this.fixPosition(this.peekInvalidType('variant identifier'));
    });
  }

  /**
   * deserialize_enum for a derived enum of unit variants. `variants` maps every accepted name
   * (aliases included) to a value; `expected` is serde's VARIANTS list (sorted aliases).
   */
  deserializeUnitEnum<T>(chain: Chain, variants: ReadonlyMap<string, T>, expected: readonly string[]): T {
    return this.withPath(chain, () => {
      const unknownVariant = (name: string): JsonDeError | undefined =>
        variants.has(name) ? undefined : custom(`unknown variant \`${name}\`, expected ${oneOf(expected)}`);
      const peek = this.parseWhitespace();
      if (peek === 0x22) {
        return variants.get(this.deserializeIdentifier(chain, unknownVariant)) as T;
      }
      if (peek === 0x7b) {
        this.checkRecursion();
        this.eat();
        const name = this.deserializeIdentifier(chain, unknownVariant);
        this.parseObjectColon();
        // unit_variant: the value must be null.
        this.withPath([...chain, { kind: 'map', key: name }], () => {
          const p = this.parseWhitespace();
          if (p < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
          if (p === 0x6e) {
            this.eat();
            this.parseIdent('ull');
            return;
          }
          throw this.fixPosition(this.peekInvalidType('unit'));
        });
        this.leaveRecursion();
        const close = this.parseWhitespace();
        if (close === 0x7d) {
          this.eat();
          return variants.get(name) as T;
        }
        if (close >= 0) throw this.error(EXPECTED_SOME_VALUE);
        throw this.error(EOF_WHILE_PARSING_OBJECT);
      }
      if (peek >= 0) throw this.peekError(EXPECTED_SOME_VALUE);
      throw this.peekError(EOF_WHILE_PARSING_VALUE);
    });
  }

  /** deserialize_seq with Vec's visitor. */
  deserializeVec<T>(chain: Chain, element: (chain: Chain) => T): T[] {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek !== 0x5b) throw this.fixPosition(this.peekInvalidType('a sequence'));
      return this.compound(peek, () => {
        const values: T[] = [];
        const state: SeqState = { first: true, index: 0 };
        for (;;) {
          const value = this.nextElement(state, chain, element);
          if (value === NONE) return values;
          values.push(value);
        }
      });
    });
  }

  /** SeqAccess::next_element_seed, as wrapped by serde_path_to_error. */
  nextElement<T>(state: SeqState, chain: Chain, element: (chain: Chain) => T): T | None {
    const index = state.index;
    state.index += 1;
    const hasNext = this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_LIST);
      if (peek === 0x5d) return false;
      if (state.first) {
        state.first = false;
        return true;
      }
      if (peek === 0x2c) {
        this.eat();
        const after = this.parseWhitespace();
        if (after === 0x5d) throw this.peekError(TRAILING_COMMA);
        if (after < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
        return true;
      }
      throw this.peekError(EXPECTED_LIST_COMMA_OR_END);
    });
    if (!hasNext) return NONE;
    const elementChain: Chain = [...chain, { kind: 'seq', index }];
    return this.withPath(elementChain, () => element(elementChain));
  }

  /** MapAccess::next_key_seed for string keys; undefined at the end of the map. */
  nextKey(state: MapState, chain: Chain): string | undefined {
    // A failing key was never captured: serde_path_to_error records an unknown segment.
    return this.withPath([...chain, { kind: 'unknown' }], () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
      if (peek === 0x7d) return undefined;
      if (state.first) {
        state.first = false;
        if (peek !== 0x22) throw this.peekError(KEY_MUST_BE_A_STRING);
      } else if (peek === 0x2c) {
        this.eat();
        const after = this.parseWhitespace();
        if (after === 0x7d) throw this.peekError(TRAILING_COMMA);
        if (after < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
        if (after !== 0x22) throw this.peekError(KEY_MUST_BE_A_STRING);
      } else {
        throw this.peekError(EXPECTED_OBJECT_COMMA_OR_END);
      }
      this.eat();
      return this.parseStr();
    });
  }

  /** MapAccess::next_value_seed: the colon belongs to the map, the value to its key's path. */
  nextValue<T>(chain: Chain, key: string, value: (chain: Chain) => T): T {
    this.withPath(chain, () => this.parseObjectColon());
    const valueChain: Chain = [...chain, { kind: 'map', key }];
    return this.withPath(valueChain, () => value(valueChain));
  }

  /** IgnoredAny for an unknown field. */
  ignoreField(chain: Chain): void {
    this.withPath(chain, () => this.ignoreValue());
  }

  /** deserialize_any into serde's Content, as untagged enums buffer their input. */
  deserializeContent(chain: Chain): Content {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      switch (peek) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          return UNIT;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          return TRUE;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          return FALSE;
        case 0x2d:
          this.eat();
          return { t: 'num', n: this.parseAnyNumber(false) };
        case 0x22:
          this.eat();
          return { t: 'str', v: this.parseStr() };
        case 0x5b:
          return this.compound(peek, () => {
            const values: Content[] = [];
            const state: SeqState = { first: true, index: 0 };
            for (;;) {
              const value = this.nextElement(state, chain, (c) => this.deserializeContent(c));
              if (value === NONE) return { t: 'seq', v: values } as const;
              values.push(value);
            }
          });
        case 0x7b:
          return this.compound(peek, () => {
            const entries: Array<[Content, Content]> = [];
            const state: MapState = { first: true };
            for (;;) {
              const key = this.nextKey(state, chain);
              if (key === undefined) return { t: 'map', v: entries } as const;
              entries.push([{ t: 'str', v: key }, this.nextValue(chain, key, (c) => this.deserializeContent(c))]);
            }
          });
        default:
          if (isDigit(peek)) return { t: 'num', n: this.parseAnyNumber(true) };
          throw this.peekError(EXPECTED_SOME_VALUE);
      }
    });
  }

  /**
   * deserialize_any with a visitor that only accepts strings and sequences (the default
   * visit_* methods reject everything else with `invalid type`).
   */
  deserializeAnyStringOrSeq<T>(
    chain: Chain,
    expected: string,
    visitStr: (value: string) => T,
    visitSeq: () => T,
  ): T {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      try {
        switch (peek) {
          case 0x6e:
            this.eat();
            this.parseIdent('ull');
            throw invalidType('null', expected);
          case 0x74:
            this.eat();
            this.parseIdent('rue');
            throw invalidType('boolean `true`', expected);
          case 0x66:
            this.eat();
            this.parseIdent('alse');
            throw invalidType('boolean `false`', expected);
          case 0x2d:
            this.eat();
            throw invalidType(unexpectedNumber(this.parseAnyNumber(false)), expected);
          case 0x22:
            this.eat();
            return visitStr(this.parseStr());
          case 0x5b:
            return this.compound(peek, visitSeq);
          case 0x7b:
            return this.compound(peek, () => {
              throw invalidType('map', expected);
            });
          default:
            if (isDigit(peek)) throw invalidType(unexpectedNumber(this.parseAnyNumber(true)), expected);
            throw this.peekError(EXPECTED_SOME_VALUE);
        }
      } catch (error) {
        throw this.fixPosition(error);
      }
    });
  }

  /**
   * deserialize_struct for a derived struct: a map with named fields, or a sequence with the
   * fields in order.
   */
  deserializeStruct(chain: Chain, spec: StructSpec): Record<string, unknown> {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x7b) return this.compound(peek, () => this.visitStructMap(chain, spec));
      if (peek === 0x5b) return this.compound(peek, () => this.visitStructSeq(chain, spec));
      throw this.fixPosition(this.peekInvalidType(`struct ${spec.name}`));
    });
  }

  private visitStructMap(chain: Chain, spec: StructSpec): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    const state: MapState = { first: true };
    for (;;) {
      const key = this.nextKey(state, chain);
      if (key === undefined) break;
      const field = spec.fields.find((f) => f.name === key);
      if (field === undefined) {
        this.nextValue(chain, key, (c) => this.ignoreField(c));
        continue;
      }
      if (seen.has(key)) throw custom(`duplicate field \`${key}\``);
      out[key] = this.nextValue(chain, key, (c) => field.read(this, c));
      seen.add(key);
    }
    for (const field of spec.fields) {
      if (seen.has(field.name)) continue;
      if (field.fallback === 'default') out[field.name] = field.defaultValue;
      else if (field.fallback === 'none') out[field.name] = null;
      else throw custom(`missing field \`${field.name}\``);
    }
    return out;
  }

  private visitStructSeq(chain: Chain, spec: StructSpec): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const state: SeqState = { first: true, index: 0 };
    const expecting = `struct ${spec.name} with ${spec.fields.length} element${spec.fields.length === 1 ? '' : 's'}`;
    spec.fields.forEach((field, i) => {
      const value = this.nextElement(state, chain, (c) => field.read(this, c));
      if (value !== NONE) out[field.name] = value;
      else if (field.fallback === 'default') out[field.name] = field.defaultValue;
      else throw invalidLength(i, expecting);
    });
    return out;
  }
}

const UNIT: Content = { t: 'unit' };
const TRUE: Content = { t: 'bool', v: true };
const FALSE: Content = { t: 'bool', v: false };

/** serde's `OneOf` list of expected names. */
export function oneOf(names: readonly string[]): string {
  if (names.length === 1) return `\`${names[0]}\``;
  if (names.length === 2) return `\`${names[0]}\` or \`${names[1]}\``;
  return `one of ${names.map((n) => `\`${n}\``).join(', ')}`;
}

/**
 * How a derived struct fills a field that is absent: `#[serde(default)]` ('default'), an
 * `Option` without it ('none': None in a map, an error in a sequence), or required.
 */
export type FieldFallback = 'default' | 'none' | 'required';

export interface FieldSpec {
  readonly name: string;
  readonly fallback: FieldFallback;
  readonly defaultValue?: unknown;
  readonly read: (de: SerdeJson, chain: Chain) => unknown;
}

export interface StructSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

/** A u32 in serde's Content, as ContentRefDeserializer::deserialize_u32 accepts it. */
export function contentAsU32(content: Content): number | undefined {
  if (content.t !== 'num' || content.n.kind !== 'u64') return undefined;
  const digits = content.n.digits;
  if (digits.length > 10) return undefined;
  const value = Number(digits);
  return value <= U32_MAX ? value : undefined;
}

/** A Vec<u32> from Content, or undefined when the content does not match. */
export function contentAsU32Vec(content: Content): number[] | undefined {
  if (content.t !== 'seq') return undefined;
  const out: number[] = new Array<number>(content.v.length);
  for (let i = 0; i < content.v.length; i += 1) {
    const value = contentAsU32(content.v[i] as Content);
    if (value === undefined) return undefined;
    out[i] = value;
  }
  return out;
}

/** A Vec<String> from Content, or undefined when the content does not match. */
export function contentAsStringVec(content: Content): string[] | undefined {
  if (content.t !== 'seq') return undefined;
  const out: string[] = new Array<string>(content.v.length);
  for (let i = 0; i < content.v.length; i += 1) {
    const item = content.v[i] as Content;
    if (item.t !== 'str') return undefined;
    out[i] = item.v;
  }
  return out;
}
