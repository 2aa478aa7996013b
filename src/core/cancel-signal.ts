/**
 * How a job's submitter says "nobody waits for this any more". The core needs only this much of
 * an AbortSignal, and an AbortSignal satisfies it, so library users pass theirs unchanged.
 *
 * The proxy makes one per client request, and at saturation node's AbortController was 3-4% of
 * the proxy's busy time (createAbortSignal builds a full EventTarget), with removeEventListener
 * another 1.4% (bench/README.md, CPU profiles). `ClientGone` does the same job with a flag and
 * a list.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A CancelSignal that fires once, when `abort()` is called; listeners run once and are dropped. */
export class ClientGone implements CancelSignal {
  aborted = false;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    // Stryker: -> true is equivalent through the interface: a listener added after abort() is never called (it would only cost memory).
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners.indexOf(listener);
    if (index !== -1) this.listeners.splice(index, 1);
  }

  abort(): void {
    // Stryker: -> false is equivalent: a second abort() finds the list empty.
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    // Stryker disable next-line ArrayDeclaration: equivalent, after abort() the list is never read: adds are refused, a second abort() returns early
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
