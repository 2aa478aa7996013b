/**
 * When the upstream could have started on a call (upstream-time.ts): after the answers of as many
 * earlier bursts as there are replicas, not after any earlier answer, which with many replicas
 * made every call look almost free.
 */
import { describe, expect, it } from 'vitest';
import { BURST_MS, UpstreamTime } from '../../../src/core/policy/upstream-time.js';

describe('upstream time', () => {
  it('one replica: a call sent while another ran started when that one was answered', () => {
    const time = new UpstreamTime();
    expect(time.startOf(0, 10)).toBe(0);
    // Sent at 2, while the first was running: its work started at 10.
    expect(time.startOf(2, 20)).toBe(10);
    // Sent after the upstream was free: its own start.
    expect(time.startOf(25, 30)).toBe(25);
  });

  it('answers within half a millisecond are one burst: calls of one merged batch share its start', () => {
    const time = new UpstreamTime();
    time.startOf(0, 10);
    expect(time.startOf(1, 20)).toBe(10);
    expect(time.startOf(1, 20 + BURST_MS)).toBe(10);
    // Just past the burst: the burst's end (its latest answer) is now the previous one.
    expect(time.startOf(1, 21 + BURST_MS)).toBe(20 + BURST_MS);
  });

  it('several replicas: a call waited only behind as many earlier bursts as there are replicas', () => {
    const time = new UpstreamTime();
    time.setLanes(3);
    time.startOf(0, 10);
    time.startOf(0, 11);
    // Two earlier bursts for three replicas: one replica was free, no wait known.
    expect(time.startOf(0, 12)).toBe(0);
    // Three earlier bursts (10, 11, 12): free at the latest at the oldest of them.
    expect(time.startOf(0, 13)).toBe(10);
    expect(time.startOf(0, 14)).toBe(11);
  });

  it('never starts a call before it was sent, nor after it was answered', () => {
    const time = new UpstreamTime();
    time.startOf(0, 50);
    expect(time.startOf(60, 70)).toBe(60);
    const many = new UpstreamTime();
    many.setLanes(2);
    many.startOf(0, 100);
    many.startOf(0, 200);
    // Answered (at 150) before the bursts it is compared with: its own answer bounds the start.
    expect(many.startOf(0, 150)).toBeLessThanOrEqual(150);
  });

  it('keeps the latest bursts when replicas leave, for calls answered in the current burst too', () => {
    const time = new UpstreamTime();
    time.setLanes(3);
    for (const end of [10, 11, 12, 13]) time.startOf(0, end);
    time.setLanes(2);
    // Within the burst that ended at 13 (no new burst): free at the older of the last two, 11.
    expect(time.startOf(0, 13.2)).toBe(11);
  });

  it('replicas joining: no wait known until as many bursts have been answered as there are replicas', () => {
    const time = new UpstreamTime();
    time.startOf(0, 10);
    expect(time.startOf(0, 13)).toBe(10);
    time.setLanes(3);
    // Two bursts seen (10 and 13) for three replicas: one of them may have been free.
    expect(time.startOf(0, 20)).toBe(0);
    expect(time.startOf(0, 30)).toBe(10);
  });

  it('follows the replica count down and up', () => {
    const time = new UpstreamTime();
    time.setLanes(3);
    for (const end of [10, 11, 12, 13]) time.startOf(0, end);
    // Now one lane: the previous burst only.
    time.setLanes(1);
    expect(time.startOf(0, 20)).toBe(13);
    time.setLanes(0.5);
    expect(time.startOf(0, 30)).toBe(20);
  });
});
