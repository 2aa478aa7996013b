/**
 * --bucket-by-length: requests share a call only with requests of similar length, so an
 * upstream that pads a batch to its longest input never pads a short query to a paragraph.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lengthBucket } from '../../src/core/length-bucket.js';
import { createLogger } from '../../src/logger.js';
import { SettingsError } from '../../src/options.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { post } from '../support/http.js';
import { startTinyTei, vectorOf, type TinyTei } from '../support/tiny-tei.js';

const logger = createLogger('silent', 'json');

describe('lengthBucket', () => {
  it('puts lengths within one band of the geometric scale together', () => {
    expect(lengthBucket(4, 2)).toBe(2);
    expect(lengthBucket(7, 2)).toBe(2);
    expect(lengthBucket(9, 2)).toBe(3);
    expect(lengthBucket(100, 2)).toBe(6);
    expect(lengthBucket(127, 2)).toBe(6);
    expect(lengthBucket(129, 2)).toBe(7);
    // A finer factor separates lengths a coarser one keeps together.
    expect(lengthBucket(40, 1.5)).not.toBe(lengthBucket(60, 1.5));
    expect(lengthBucket(40, 2)).toBe(lengthBucket(60, 2));
  });

  it('never decreases with length, and never gives a length the bucket of one a factor longer', () => {
    for (const ratio of [1.25, 1.5, 2, 3, 10]) {
      let previous = lengthBucket(1, ratio);
      for (let length = 2; length < 5000; length++) {
        const bucket = lengthBucket(length, ratio);
        expect(bucket).toBeGreaterThanOrEqual(previous);
        previous = bucket;
        expect(lengthBucket(Math.ceil(length * ratio * 1.001), ratio)).toBeGreaterThan(bucket);
      }
    }
  });

  it('stays finite for lengths under one byte', () => {
    expect(lengthBucket(0, 2)).toBe(0);
  });
});

describe('--bucket-by-length through the proxy', () => {
  let upstream: TinyTei | undefined;
  let proxy: RunningProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  const short = ['a1', 'b22', 'c3', 'd4']; // JSON text 4-5 bytes: one band at factor 2
  const long = Array.from({ length: 4 }, (_, i) => `${'L'.repeat(60)} ${i}`); // 65 bytes: another band

  /** Sends every text while the upstream is held busy, then lets the calls run; returns the calls after the held one. */
  async function batchesFor(bucketByLength: number | undefined): Promise<string[][]> {
    upstream = await startTinyTei(32);
    proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, maxInflight: 1, bucketByLength, logger });
    const held = upstream.holdNextEmbed();
    const first = post(proxy.url, '/embed', { inputs: 'warm' });
    await held.arrived;
    const texts = [short[0]!, long[0]!, short[1]!, long[1]!, long[2]!, short[2]!, short[3]!, long[3]!];
    const replies = texts.map((text) => post(proxy!.url, '/embed', { inputs: text }));
    // Every request is queued behind the held call before it is released.
    while (proxy.queuedItems < texts.length) await new Promise((resolve) => setTimeout(resolve, 5));
    held.release();
    expect((await first).status).toBe(200);
    const answers = await Promise.all(replies);
    answers.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual([vectorOf(texts[i]!)]);
    });
    return upstream.embedCallInputs.slice(1);
  }

  it('keeps short and long inputs in separate calls', async () => {
    const calls = await batchesFor(2);
    expect(calls.map((inputs) => [...inputs].sort())).toEqual(expect.arrayContaining([[...short].sort(), [...long].sort()]));
    expect(calls).toHaveLength(2);
  });

  it('without it, mixes them in one call (the control for the test above)', async () => {
    const calls = await batchesFor(undefined);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(8);
  });

  it('refuses a factor of 1 or less', async () => {
    await expect(startProxy({ upstream: 'http://127.0.0.1:9', port: 0, bucketByLength: 1, logger })).rejects.toBeInstanceOf(SettingsError);
  });
});
