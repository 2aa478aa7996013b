/**
 * serde_json's number parsing (de.rs: parse_integer, parse_number, parse_decimal, parse_exponent,
 * f64_from_parts, the overflow paths, and the ignore_* skips for numbers nobody reads). Integers
 * keep their digits, so a u64 or i64 out of JavaScript's safe range is still told apart as serde
 * tells it, and floats round as serde_json's POW10 table makes them.
 */
import { formatF64 } from '../float-format.js';
import { EOF_WHILE_PARSING_VALUE, INVALID_NUMBER, NUMBER_OUT_OF_RANGE } from './error.js';
import { SliceRead } from './read.js';

/** A number as serde_json's parser produced it (`ParserNumber`). Integers keep their digits. */
export type ParserNumber =
  | { readonly kind: 'u64'; readonly digits: string }
  | { readonly kind: 'i64'; readonly digits: string }
  | { readonly kind: 'f64'; readonly value: number };

export const U64_MAX = '18446744073709551615';
export const I64_MIN_MAGNITUDE = '9223372036854775808';
export const U32_MAX = 4294967295;

// serde_json's POW10 table: correctly rounded literals.
export const POW10: number[] = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Compares two digit strings without leading zeros as unsigned integers. */
export function digitsGreater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** serde's `Unexpected` as serde_json displays it. */
export function unexpectedNumber(n: ParserNumber): string {
  if (n.kind === 'u64') return `integer \`${n.digits}\``;
  if (n.kind === 'i64') return `integer \`-${n.digits}\``;
  return `floating point \`${formatF64(n.value)}\``;
}

/** The reader plus serde_json's number parser. */
export class NumberParser extends SliceRead {
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
        if (digitsGreater(grown, U64_MAX))
          return {
            kind: 'f64',
            value: this.parseLongInteger(positive, significand),
          };
        this.eat();
        significand = grown;
      }
    }
    throw this.error(INVALID_NUMBER);
  }

  /** `significand` holds digits without leading zeros ('' is zero). */
  protected parseNumber(positive: boolean, significand: string): ParserNumber {
    const c = this.peekOrNull();
    if (c === 0x2e)
      return {
        kind: 'f64',
        value: this.parseDecimal(positive, significand, 0),
      };
    if (c === 0x65 || c === 0x45)
      return {
        kind: 'f64',
        value: this.parseExponent(positive, significand, 0),
      };
    if (positive) return { kind: 'u64', digits: significand === '' ? '0' : significand };
    // Convert into a float on `-0` or when the magnitude does not fit an i64.
    if (significand === '' || digitsGreater(significand, I64_MIN_MAGNITUDE)) {
      return { kind: 'f64', value: -this.significandValue(significand) };
    }
    return { kind: 'i64', digits: significand };
  }

  protected significandValue(significand: string): number {
    // Number() of a digit string is correctly rounded, like Rust's `u64 as f64`.
    return significand === '' ? 0 : Number(significand);
  }

  protected parseDecimal(positive: boolean, significandIn: string, exponentBeforeDecimalPoint: number): number {
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

  protected parseExponent(positive: boolean, significand: string, startingExp: number): number {
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

  protected parseExponentOverflow(positive: boolean, zeroSignificand: boolean, positiveExp: boolean): number {
    if (!zeroSignificand && positiveExp) throw this.error(NUMBER_OUT_OF_RANGE);
    while (isDigit(this.peekOrNull())) this.eat();
    return positive ? 0 : -0;
  }

  protected f64FromParts(positive: boolean, significand: string, exponentIn: number): number {
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

  protected parseLongInteger(positive: boolean, significand: string): number {
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

  protected parseDecimalOverflow(positive: boolean, significand: string, exponent: number): number {
    while (isDigit(this.peekOrNull())) this.eat();
    const c = this.peekOrNull();
    if (c === 0x65 || c === 0x45) return this.parseExponent(positive, significand, exponent);
    return this.f64FromParts(positive, significand, exponent);
  }

  protected ignoreInteger(): void {
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

  protected ignoreDecimal(): void {
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

  protected ignoreExponent(): void {
    this.eat();
    const p = this.peekOrNull();
    if (p === 0x2b || p === 0x2d) this.eat();
    const c = this.next();
    if (!isDigit(c)) throw this.error(INVALID_NUMBER);
    while (isDigit(this.peekOrNull())) this.eat();
  }
}
