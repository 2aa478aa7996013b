/**
 * Float formatting exactly as TEI's JSON encoder writes it.
 *
 * serde_json prints an `f32` with ryu: the shortest decimal that reads back as the same f32,
 * laid out by ryu's "pretty" rules (`0.1`, `1.0`, `1e-7`, `1.5e20`). JavaScript only knows f64,
 * and `JSON.stringify(Math.fround(0.1))` gives `0.10000000149011612`, so a TEI-compatible server
 * needs its own formatter. Error messages quote f64 values (`floating point \`1.5\``), which ryu
 * formats with slightly different thresholds; both layouts are here.
 */

/** Decimal digits (no leading or trailing zeros) and the power of ten of the last digit. */
interface ShortestDecimal {
  digits: string;
  exponent: number;
}

function splitExponential(text: string): ShortestDecimal {
  // `text` looks like "1.2345e-7" or "5e+3".
  const e = text.indexOf('e');
  const mantissa = text.slice(0, e).replace('.', '');
  const pointExponent = Number(text.slice(e + 1));
  let digits = mantissa;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end -= 1;
  digits = digits.slice(0, end);
  return { digits, exponent: pointExponent - (digits.length - 1) };
}

/** True when some `precision`-digit decimal reads back as the f32 `value`; returns the closest. */
function f32CandidateWithPrecision(value: number, precision: number): string | undefined {
  const nearest = value.toExponential(precision - 1);
  if (Math.fround(Number(nearest)) === value) return nearest;
  // At a power of two the f32 rounding interval is lopsided: the nearest decimal can fall just
  // outside on the narrow side while its neighbour on the wide side still reads back correctly.
  const e = nearest.indexOf('e');
  const mantissa = nearest.slice(0, e).replace('.', '');
  const exponent = Number(nearest.slice(e + 1)) - (precision - 1);
  const m = Number(mantissa);
  for (const neighbour of [m + 1, m - 1]) {
    if (neighbour <= 0) continue;
    const candidate = `${neighbour}e${exponent}`;
    if (Math.fround(Number(candidate)) === value) return Number(candidate).toExponential(precision - 1);
  }
  return undefined;
}

// Parsed from literals: `10 ** i` is not guaranteed to be correctly rounded.
const POW10: number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** 10^e for e in [-60, 60], for locating the leading digit of any f32. */
const POW10_WIDE: number[] = Array.from({ length: 121 }, (_, i) => Number(`1e${i - 60}`));

function pow10Wide(e: number): number {
  return POW10_WIDE[e + 60] ?? Number(`1e${e}`);
}

/** Decimal exponent of the leading digit: 10^e <= value < 10^(e+1). */
function decimalExponent(value: number): number {
  let e = Math.floor(Math.log10(value));
  if (pow10Wide(e) > value) e -= 1;
  else if (pow10Wide(e + 1) <= value) e += 1;
  return e;
}

/** The f32 read back from m * 10^-scale, as a correctly rounded parse would give it. */
function readBack(m: number, scale: number): number {
  // Both operands are exact, and IEEE division/multiplication round once: the same f64 that
  // parsing the decimal string would give, without the cost of building that string.
  return Math.fround(scale >= 0 ? m / (POW10[scale] as number) : m * (POW10[-scale] as number));
}

/** The m (as a p-digit candidate) that reads back as `value`, or -1. */
function candidateAt(value: number, e10: number, precision: number): number {
  const scale = precision - 1 - e10;
  const scaled = scale >= 0 ? value * (POW10[scale] as number) : value / (POW10[-scale] as number);
  const m0 = Math.round(scaled);
  if (m0 > 0 && readBack(m0, scale) === value) return m0;
  // The product above is itself rounded, so the nearest candidate may be one step away.
  const other = scaled >= m0 ? m0 + 1 : m0 - 1;
  if (other > 0 && readBack(other, scale) === value) return other;
  return -1;
}

function shortestF32(value: number): ShortestDecimal {
  const e10 = decimalExponent(value);
  // Exact powers of ten only reach 10^22; values that far from 1 take the slow path.
  if (e10 > 22 || e10 < -13) return shortestF32ByStrings(value);
  // Whether some p-digit decimal reads back is monotonic in p. Most f32 values need 7 to 9
  // digits, so start at 7 and walk to the shortest.
  let precision = 7;
  let m = candidateAt(value, e10, precision);
  if (m > 0) {
    while (precision > 1) {
      const shorter = candidateAt(value, e10, precision - 1);
      if (shorter < 0) break;
      m = shorter;
      precision -= 1;
    }
  } else {
    precision = 8;
    m = candidateAt(value, e10, precision);
    if (m < 0) {
      precision = 9;
      m = candidateAt(value, e10, precision);
      if (m < 0) return shortestF32ByStrings(value);
    }
  }
  let exponent = e10 + 1 - precision;
  while (m % 10 === 0) {
    m /= 10;
    exponent += 1;
  }
  return { digits: String(m), exponent };
}

/** Slow but simple search for values far from 1 (|exponent| beyond exact powers of ten). */
function shortestF32ByStrings(value: number): ShortestDecimal {
  for (let precision = 1; precision <= 9; precision += 1) {
    const candidate = f32CandidateWithPrecision(value, precision);
    if (candidate !== undefined) return splitExponential(candidate);
  }
  return splitExponential(value.toExponential(8));
}

const ZERO_PREFIXES = ['0.', '0.0', '0.00', '0.000', '0.0000', '0.00000'];

/**
 * ryu's layout: plain digits for magnitudes in [10^(lowExp), 10^(highExp)), scientific
 * notation (`1e30`, `1.5e-7`) elsewhere.
 */
function layout(negative: boolean, { digits, exponent }: ShortestDecimal, maxIntDigits: number, minExp: number): string {
  const sign = negative ? '-' : '';
  const length = digits.length;
  const k = exponent;
  const kk = length + k;
  // Embedding values land here: 0.0xxxx.
  if (kk > minExp && kk <= 0) return `${sign}${ZERO_PREFIXES[-kk] ?? `0.${'0'.repeat(-kk)}`}${digits}`;
  if (k >= 0 && kk <= maxIntDigits) return `${sign}${digits}${'0'.repeat(k)}.0`;
  if (kk > 0 && kk <= maxIntDigits) return `${sign}${digits.slice(0, kk)}.${digits.slice(kk)}`;
  if (length === 1) return `${sign}${digits}e${kk - 1}`;
  return `${sign}${digits[0]}.${digits.slice(1)}e${kk - 1}`;
}

/** serde_json's text for an f32 (`value` must already be an f32, e.g. from Math.fround). */
export function formatF32(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const negative = value < 0;
  return layout(negative, shortestF32(Math.abs(value)), 13, -6);
}

/** ryu's text for an f64, as serde quotes floats in error messages. */
export function formatF64(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const negative = value < 0;
  // toExponential() without an argument gives the shortest round-trip digits, like ryu.
  return layout(negative, splitExponential(Math.abs(value).toExponential()), 16, -5);
}

/**
 * A JSON array of f32 values as TEI writes it. Built by one join so the result is a flat
 * string (cached answers are written many times; a rope would be walked every time).
 */
export function formatF32Array(values: ArrayLike<number>): string {
  if (values.length === 0) return '[]';
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i += 1) parts[i] = formatF32(values[i] as number);
  parts[0] = `[${parts[0] as string}`;
  parts[values.length - 1] = `${parts[values.length - 1] as string}]`;
  return parts.join(',');
}
