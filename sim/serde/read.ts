/**
 * serde_json's `SliceRead` (read.rs), with the whitespace and identifier scanning of de.rs: the
 * byte position, peeking and consuming, where an error is said to be (line and column as
 * serde_json counts them, `fix_position`), the path and recursion bookkeeping, and strings with
 * their escapes. The layers above (numbers, values, the typed deserializers) read only through
 * this, so every error position comes out where serde_json's would.
 */
import { isUtf8 } from 'node:buffer';
import {
  type Chain,
  CONTROL_CHARACTER,
  EOF_WHILE_PARSING_STRING,
  EOF_WHILE_PARSING_VALUE,
  EXPECTED_SOME_IDENT,
  INVALID_ESCAPE,
  INVALID_UNICODE_CODE_POINT,
  JsonDeError,
  LONE_LEADING_SURROGATE,
  RECURSION_LIMIT_EXCEEDED,
  UNEXPECTED_END_OF_HEX_ESCAPE,
} from './error.js';

/** The reader: serde_json's `SliceRead` over the body's bytes. */
export class SliceRead {
  index = 0;
  protected remainingDepth = 128;
  protected readonly utf8Valid: boolean;
  protected readonly buffer: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.utf8Valid = isUtf8(bytes);
  }

  // ---------------------------------------------------------------- read.rs

  peek(): number {
    return this.index < this.bytes.length ? (this.bytes[this.index] as number) : -1;
  }

  protected peekOrNull(): number {
    const c = this.peek();
    return c < 0 ? 0 : c;
  }

  eat(): void {
    this.index += 1;
  }

  protected next(): number {
    if (this.index < this.bytes.length) {
      const c = this.bytes[this.index] as number;
      this.index += 1;
      return c;
    }
    return -1;
  }

  protected positioned(error: JsonDeError, i: number): JsonDeError {
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

  protected checkRecursion(): void {
    this.remainingDepth -= 1;
    if (this.remainingDepth === 0) throw this.peekError(RECURSION_LIMIT_EXCEEDED);
  }

  protected leaveRecursion(): void {
    this.remainingDepth += 1;
  }

  protected skipToEscape(): void {
    const bytes = this.bytes;
    let i = this.index;
    while (i < bytes.length) {
      const c = bytes[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      i += 1;
    }
    this.index = i;
  }

  protected decodeHexEscape(): number {
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

  protected nextOrEof(): number {
    const c = this.next();
    if (c < 0) throw this.error(EOF_WHILE_PARSING_STRING);
    return c;
  }

  protected peekOrEof(): number {
    const c = this.peek();
    if (c < 0) throw this.error(EOF_WHILE_PARSING_STRING);
    return c;
  }

  /** parse_escape with validate = true; returns the decoded text. */
  protected parseEscape(): string {
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

  protected parseUnicodeEscape(): string {
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

  protected ignoreStr(): void {
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

  protected parseIdent(rest: string): void {
    for (let i = 0; i < rest.length; i += 1) {
      const c = this.next();
      if (c < 0) throw this.error(EOF_WHILE_PARSING_VALUE);
      if (c !== rest.charCodeAt(i)) throw this.error(EXPECTED_SOME_IDENT);
    }
  }
}
