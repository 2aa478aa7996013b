/**
 * The heap backstop on its own: its marks (shed at 85% of the limit, resume under 75%) and how
 * often it reads the heap (once per turn of the event loop, not once per request: the read was
 * 2.7% of the proxy's busy time at 256 clients).
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { HeapPressure, RESUME_BELOW, SHED_ABOVE, type HeapReading } from '../../src/http/heap-pressure.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function pressure(): { heap: HeapPressure; set: (share: number) => void; reads: () => number } {
  let usedBytes = 0;
  let reads = 0;
  const read = (): HeapReading => {
    reads++;
    return { usedBytes, limitBytes: 1000 };
  };
  return { heap: new HeapPressure(createLogger('silent', 'json'), read), set: (share) => (usedBytes = share * 1000), reads: () => reads };
}

describe('HeapPressure', () => {
  it('reads the heap once per turn of the event loop, however many requests it admits in it', async () => {
    const { heap, reads } = pressure();
    for (let i = 0; i < 5; i++) expect(heap.high()).toBe(false);
    expect(reads()).toBe(1);
    await nextTurn();
    heap.high();
    expect(reads()).toBe(2);
  });

  it('sheds from its upper mark and takes work again only under its lower one', async () => {
    const { heap, set } = pressure();
    set(SHED_ABOVE - 0.01);
    expect(heap.high()).toBe(false);
    await nextTurn();
    set(SHED_ABOVE);
    expect(heap.high()).toBe(true);
    await nextTurn();
    set(RESUME_BELOW);
    expect(heap.high()).toBe(true);
    await nextTurn();
    set(RESUME_BELOW - 0.01);
    expect(heap.high()).toBe(false);
  });

  it('sees a heap that grew within a turn at the next one', async () => {
    const { heap, set } = pressure();
    expect(heap.high()).toBe(false);
    set(0.9);
    expect(heap.high()).toBe(false);
    await nextTurn();
    expect(heap.high()).toBe(true);
  });
});
