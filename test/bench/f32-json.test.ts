/** f32 JSON and base64 writing for the USE upstream (bench/upstreams/f32-json.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f32ArrayBase64, f32ArrayJson, formatF32 } from '../../bench/upstreams/f32-json.js';

/** The obvious search: fewest significant digits that read back to the same f32. */
function shortestByScan(value: number): string {
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  throw new Error(`no decimal for ${value}`);
}

describe('formatF32', () => {
  it('writes the shortest decimal that reads back to the same f32', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = formatF32(value);
        expect(Math.fround(Number(text))).toBe(value === 0 ? 0 : value);
        if (value !== 0) expect(text).toBe(shortestByScan(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('writes familiar values plainly', () => {
    expect(formatF32(Math.fround(0.1))).toBe('0.1');
    expect(formatF32(Math.fround(-0.0023546612))).toBe('-0.0023546612');
    expect(formatF32(1)).toBe('1');
    expect(formatF32(0)).toBe('0');
    expect(formatF32(-0)).toBe('0');
    expect(formatF32(Math.fround(1e-8))).toBe('1e-8');
    expect(formatF32(Number.NaN)).toBe('null');
  });
});

describe('f32ArrayJson and f32ArrayBase64', () => {
  it('write a JSON array and little-endian bytes of the same f32 values', () => {
    const values = new Float32Array([0.5, -0.25, Math.fround(0.1), 3]);
    const json = f32ArrayJson(values);
    expect(json).toBe('[0.5,-0.25,0.1,3]');
    const bytes = Buffer.from(f32ArrayBase64(values), 'base64');
    expect(bytes.length).toBe(16);
    expect([0, 1, 2, 3].map((i) => bytes.readFloatLE(4 * i))).toEqual(Array.from(values));
  });

  it('encode only the viewed part of a shared buffer', () => {
    const whole = new Float32Array([1, 2, 3, 4]);
    const view = whole.subarray(1, 3);
    expect(f32ArrayJson(view)).toBe('[2,3]');
    expect(Buffer.from(f32ArrayBase64(view), 'base64').readFloatLE(0)).toBe(2);
  });
});
