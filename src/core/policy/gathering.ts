/**
 * How many inputs a banded call really gathers, against what the length plan takes it to hold.
 *
 * The plan (length-plan.ts) prices each band's call as the band's share of the inputs in the
 * system. The batcher does not serve bands in proportion, though: a full batch goes first, and a
 * partial one waits until it has been passed over a few times (batcher.ts, OVERTAKES). Under load
 * the band holding most of the traffic fills call after call, and the other bands gather their
 * requests over several of its calls, so their calls hold about twice their share (simulated
 * padded CPU at 128 clients, buckets of 3: 25 to 31 inputs a call where the share gave 14 to 17;
 * buckets of 1.5 alike). Priced on the share, narrow bands looked as if they paid the fixed cost per call
 * twice as often as they do and wide bands as if they held half their padding, and the plan kept
 * buckets of 3 (predicted 2.50 ms an input against 2.41 for 1.5, within its hysteresis) where 1.5
 * served 8% more.
 *
 * So the ratio of the inputs the calls held to the plan's estimate for them is measured on the
 * plan in force, and the plan is made for the load times that ratio. One ratio for all bands and
 * candidates: it comes from the dispatch order, which is the same whatever the bands.
 */

/** Each call's weight fades by this much per call after it: the ratio follows the last ~10 banded calls. */
const FADE = 0.9;
/** Inputs the plan must have expected (faded) before the ratio is read; before, 1. */
const MIN_EXPECTED = 8;
/** Bounds of the ratio: calls never gather less than half their share, nor more than 4 times it. */
const MIN_RATIO = 0.5;
const MAX_RATIO = 4;

export class Gathering {
  private held = 0;
  private expected = 0;

  /** A banded call answered: it held `items` inputs where the plan expected `expected`. */
  observe(items: number, expected: number): void {
    this.held = this.held * FADE + items;
    this.expected = this.expected * FADE + expected;
  }

  /** Inputs held per input expected, bounded; 1 until enough is measured. */
  get ratio(): number {
    if (this.expected < MIN_EXPECTED) return 1;
    return Math.min(MAX_RATIO, Math.max(MIN_RATIO, this.held / this.expected));
  }
}
