/**
 * A bounded, roughly least-recently-used cache on a Map (whose iteration order is insertion
 * order): a hit moves the entry to the end, inserts evict the oldest entries until both the
 * entry count and the byte budget fit. The simulator caches serialized answers so that
 * benchmarks measure the proxy, not the simulator; answers range from a few bytes to megabytes
 * (/embed_all), hence the budget in bytes.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** `bytes` is the caller's estimate of the memory the value holds. */
  set(key: string, value: V, bytes: number): void {
    if (this.maxEntries <= 0 || bytes > this.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.bytes -= previous.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldestKey);
      this.bytes -= oldest.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
