/**
 * Rate-limited reporting of changed decisions, for the operator's log. A learning policy may
 * revisit a decision several times a second while load moves; one line per decision per second
 * at most keeps the log readable, and the line says how many changes it stands for.
 */
import type { DecisionChange } from './dispatch-policy.js';

export interface LoggedChange extends DecisionChange {
  /** Changes of the same decision since the previous line that were not logged. */
  suppressed: number;
}

export class DecisionLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly now: () => number,
    private readonly emit: (change: LoggedChange) => void,
    private readonly minIntervalMs = 1000,
  ) {}

  note(change: DecisionChange): void {
    // Stryker: another string for a decision without a route is equivalent (it stays apart from every route's).
    const topic = `${change.decision}\u0000${change.route ?? ''}`;
    const now = this.now();
    const previous = this.last.get(topic);
    if (previous !== undefined && now - previous.at < this.minIntervalMs) {
      previous.suppressed++;
      return;
    }
    this.last.set(topic, { at: now, suppressed: 0 });
    this.emit({ ...change, suppressed: previous?.suppressed ?? 0 });
  }
}
