/**
 * The memory budget: one count of the bytes the proxy holds on behalf of clients (bodies being
 * read, queued, in calls or replayed; upstream answers being read; client answers being cut and
 * written), against one limit (`--max-memory-bytes`). A request is admitted only if its body
 * fits, so what clients send can never grow the proxy past a size fixed in advance: the proxy
 * refuses the excess (429) the way TEI refuses requests past its permits, instead of dying of it.
 *
 * Why a count of bytes rather than of requests: the issue that led here was 1,500 requests, each
 * under every per-request limit, whose bodies together outgrew the heap; a request count cannot
 * tell a 100-byte body from a 1.9 MB one.
 *
 * Answers are counted too but cannot be refused the same way (they are already on their way when
 * their size is known): they may take the count past the limit, which refuses new requests until
 * they are written, but never past `ceiling` (twice the limit), where the upstream answer being
 * read is dropped and its call fails (see UpstreamClient.request's `reserve`).
 */

export class ByteBudget {
  private heldBytes = 0;
  private peakBytes = 0;

  constructor(
    /** Bytes admitted requests may hold together. */
    readonly limit: number,
  ) {
    if (!(Number.isSafeInteger(limit) && limit > 0)) throw new RangeError(`a byte budget must be a positive integer, got ${limit}`);
  }

  /** Past this, even an answer already on its way is dropped. */
  get ceiling(): number {
    return this.limit * 2;
  }

  get held(): number {
    return this.heldBytes;
  }

  /** The most held at once since the last `resetPeak`. */
  get peak(): number {
    return this.peakBytes;
  }

  resetPeak(): void {
    this.peakBytes = this.heldBytes;
  }

  /** A new, empty claim on the budget for one request or one call. */
  claim(): Claim {
    return new Claim(this);
  }

  /** @internal Claim's accounting. */
  change(bytes: number): void {
    this.heldBytes += bytes;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
  }
}

/**
 * What one request (or one upstream answer) holds of the budget. It only grows until it is
 * released, once, as a whole: the owner need not track which of its parts are still alive.
 */
export class Claim {
  private bytes = 0;
  private released = false;

  constructor(private readonly budget: ByteBudget) {}

  get size(): number {
    return this.bytes;
  }

  /**
   * Grows the claim to at least `total` bytes if the budget has room for the difference (the
   * budget's limit for new work, or its ceiling for answers already on their way). False, and
   * nothing taken, when it has not.
   */
  cover(total: number, bound: 'limit' | 'ceiling' = 'limit'): boolean {
    const more = total - this.bytes;
    if (more <= 0) return true;
    if (this.released) return false;
    const room = (bound === 'limit' ? this.budget.limit : this.budget.ceiling) - this.budget.held;
    if (more > room) return false;
    this.take(more);
    return true;
  }

  /** Counts bytes already in memory (an answer that has been cut): never refused. */
  add(bytes: number): void {
    if (this.released || bytes <= 0) return;
    this.take(bytes);
  }

  /** Gives everything back; later calls do nothing. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.change(-this.bytes);
    this.bytes = 0;
  }

  private take(bytes: number): void {
    this.bytes += bytes;
    this.budget.change(bytes);
  }
}
