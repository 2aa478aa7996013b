/**
 * ClientGone, the proxy's light CancelSignal: removing one listener never disturbs the others.
 * (Firing once, skipping removed and late listeners: test/core/batcher.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { ClientGone } from '../../src/core/cancel-signal.js';

describe('ClientGone listeners', () => {
  function withListeners(names: string[]) {
    const gone = new ClientGone();
    const heard: string[] = [];
    const listeners = new Map(names.map((name) => [name, (): void => void heard.push(name)]));
    for (const listener of listeners.values()) gone.addEventListener('abort', listener);
    return { gone, heard, listeners };
  }

  it('removes exactly the listener asked for, wherever it is in the list', () => {
    for (const removed of ['a', 'b', 'c']) {
      const { gone, heard, listeners } = withListeners(['a', 'b', 'c']);
      gone.removeEventListener('abort', listeners.get(removed)!);
      gone.abort();
      expect(heard).toEqual(['a', 'b', 'c'].filter((name) => name !== removed));
    }
  });

  it('leaves the others alone when asked to remove a listener it never had', () => {
    const { gone, heard } = withListeners(['a', 'b', 'c']);
    gone.removeEventListener('abort', () => {});
    gone.abort();
    expect(heard).toEqual(['a', 'b', 'c']);
  });
});
