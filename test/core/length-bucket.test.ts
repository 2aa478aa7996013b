/**
 * lengthBucket, the pure rule behind --bucket-by-length: band k of the geometric scale holds
 * lengths in [ratio^k, ratio^(k+1)). (Its use through the proxy: test/proxy/length-buckets.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { lengthBucket } from '../../src/core/length-bucket.js';

describe('lengthBucket', () => {
  it('puts each length in its band of the geometric scale', () => {
    expect([1, 2, 3, 4, 7, 8, 100, 1000].map((bytes) => lengthBucket(bytes, 2))).toEqual([0, 1, 1, 2, 2, 3, 6, 9]);
    // Not at 1000 itself: log(1000) / log(10) is 2.9999999999999996 in floating point (see the docs).
    expect([1, 9, 10, 99, 100, 999, 1001].map((bytes) => lengthBucket(bytes, 10))).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  it('puts lengths under one byte in the first band, never at minus infinity', () => {
    expect(lengthBucket(0, 2)).toBe(0);
    expect(lengthBucket(0.5, 2)).toBe(0);
  });
});
