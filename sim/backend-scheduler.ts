/**
 * The simulated backend's cost model: when each inference finishes.
 *
 * A backend batch of n items costs `perCallMs + perItemMs * n`, plus `perTokenMs` per token it
 * computes, and `slots` batches run at once; the rest wait in FIFO order. With `pad`, the backend
 * computes every input padded to the batch's longest (TEI's ONNX and candle CPU backends, most
 * servers without variable-length attention), so a batch costs per token n * longest instead of
 * its total: one long input makes every short input of its batch as costly as itself. Without `merge`, each HTTP call is one batch (an upstream that
 * does not batch across requests). With `merge`, every item is queued on its own and a free
 * slot takes queued items in FIFO order up to max_batch_tokens / max_batch_requests, with no
 * wait window, like TEI's queue (core/src/queue.rs).
 *
 * Time is kept on a virtual clock: a slot that frees at time T starts its next batch at T even
 * when the timer fires late, so timer granularity never accumulates over many calls.
 */

export interface CostModel {
  readonly perCallMs: number;
  readonly perItemMs: number;
  readonly slots: number;
  readonly merge: boolean;
  /** Cost per token computed (default 0). */
  readonly perTokenMs?: number;
  /** Pad every input of a batch to its longest (default false). */
  readonly pad?: boolean;
}

export interface BatchLimits {
  readonly maxBatchTokens: number;
  readonly maxBatchRequests: number | undefined;
}

/** One item (or, without merge, one whole call) waiting for the backend. */
export interface WorkItem {
  readonly tokens: number;
  /** Items the entry stands for: 1 with merge, the call's item count without. */
  readonly weight: number;
  /** Tokens of the entry's longest item (default `tokens`: an entry of one item). */
  readonly longest?: number;
}

/** How long an item waited and how long its batch ran, in milliseconds. */
export interface ItemTiming {
  readonly queueMs: number;
  readonly inferenceMs: number;
}

interface Entry {
  readonly tokens: number;
  readonly weight: number;
  readonly longest: number;
  readonly arrival: number;
  readonly isCancelled: () => boolean;
  readonly done: (timing: ItemTiming) => void;
}

interface Slot {
  freeAt: number;
  running: boolean;
}

export class BackendScheduler {
  private readonly queue: Entry[] = [];
  private head = 0;
  private readonly slots: Slot[];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Item count of every batch the backend ran (for tests and benchmarks). */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly cost: CostModel,
    private readonly limits: BatchLimits,
  ) {
    const slotCount = Math.max(1, Math.floor(cost.slots));
    this.slots = Array.from({ length: slotCount }, () => ({ freeAt: 0, running: false }));
  }

  get merging(): boolean {
    return this.cost.merge;
  }

  /**
   * Queues the items of one call and resolves with each item's timing once all have run.
   * `isCancelled` lets queued work of a disconnected client be dropped, as TEI does.
   */
  run(items: readonly WorkItem[], isCancelled: () => boolean): Promise<ItemTiming[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const timings: ItemTiming[] = new Array<ItemTiming>(items.length);
      let remaining = items.length;
      const arrival = performance.now();
      items.forEach((item, i) => {
        this.queue.push({
          tokens: item.tokens,
          weight: item.weight,
          longest: item.longest ?? item.tokens,
          arrival,
          isCancelled,
          done: (timing) => {
            timings[i] = timing;
            remaining -= 1;
            if (remaining === 0) resolve(timings);
          },
        });
      });
      this.pump();
    });
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.running) continue;
      const batch = this.take();
      if (batch.length === 0) return;
      this.start(slot, batch);
    }
  }

  /** The next batch in FIFO order, skipping entries whose client has gone. */
  private take(): Entry[] {
    const batch: Entry[] = [];
    let tokens = 0;
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      if (entry.isCancelled()) {
        this.head += 1;
        entry.done({ queueMs: 0, inferenceMs: 0 });
        continue;
      }
      if (batch.length > 0) {
        if (!this.cost.merge) break;
        if (tokens + entry.tokens > this.limits.maxBatchTokens) break;
      }
      this.head += 1;
      batch.push(entry);
      tokens += entry.tokens;
      if (!this.cost.merge || batch.length === this.limits.maxBatchRequests) break;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return batch;
  }

  private start(slot: Slot, batch: Entry[]): void {
    let items = 0;
    let tokens = 0;
    let longest = 0;
    let latestArrival = 0;
    for (const entry of batch) {
      items += entry.weight;
      tokens += entry.tokens;
      longest = Math.max(longest, entry.longest);
      latestArrival = Math.max(latestArrival, entry.arrival);
    }
    const start = Math.max(slot.freeAt, latestArrival);
    const computed = this.cost.pad === true ? items * longest : tokens;
    const duration = this.cost.perCallMs + this.cost.perItemMs * items + (this.cost.perTokenMs ?? 0) * computed;
    const end = start + duration;
    slot.running = true;
    this.batchSizes.push(items);
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        slot.running = false;
        slot.freeAt = end;
        for (const entry of batch) entry.done({ queueMs: start - entry.arrival, inferenceMs: duration });
        this.pump();
      },
      Math.max(0, end - performance.now()),
    );
    this.timers.add(timer);
  }
}
