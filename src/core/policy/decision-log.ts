/**
 * Rate-limited reporting of changed decisions, for the operator's log. A learning policy may
 * revisit a decision several times a second while load moves; one line per decision per second
 * at most keeps the log readable, and the line says how many changes it stands for.
 *
 * With timers, the last change of a burst is logged when its second is up (a trailing line), so
 * the log always ends where the decision did: without it, a limit raised, then lowered 200 ms
 * later, read "2 -> 3" to the end of a quiet run (seen in a P6 run, where the policy said 2).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { DecisionChange } from './dispatch-policy.js';

export interface LoggedChange extends DecisionChange {
  /** Changes of the same decision since the previous line that were not logged. */
  suppressed: number;
}

/** One decision's (or one route's decision's) line state. */
interface Topic {
  /** When its last line was logged. */
  at: number;
  suppressed: number;
  /** The value its last line left it at. */
  lastTo: unknown;
  /** The latest change not logged, for the trailing line. */
  pending: DecisionChange | undefined;
  timer: TimerHandle | undefined;
}

export class DecisionLog {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly now: () => number,
    private readonly emit: (change: LoggedChange) => void,
    private readonly minIntervalMs = 1000,
    /** Without timers (the simulator, most tests) there is no trailing line. */
    private readonly timers?: Pick<Clock, 'setTimer' | 'clearTimer'>,
  ) {}

  note(change: DecisionChange): void {
    // Stryker: another string for a decision without a route is equivalent (it stays apart from every route's).
    const key = `${change.decision}\u0000${change.route ?? ''}`;
    const now = this.now();
    const topic = this.topics.get(key);
    if (topic !== undefined && now - topic.at < this.minIntervalMs) {
      topic.suppressed++;
      topic.pending = change;
      if (this.timers !== undefined && topic.timer === undefined) {
        topic.timer = this.timers.setTimer(() => this.trail(key), topic.at + this.minIntervalMs - now);
      }
      return;
    }
    // Stryker: OptionalChaining (`this.timers.clearTimer`) equivalent: a topic has a timer only when there are timers.
    if (topic?.timer !== undefined) this.timers?.clearTimer(topic.timer);
    this.topics.set(key, { at: now, suppressed: 0, lastTo: change.to, pending: undefined, timer: undefined });
    this.emit({ ...change, suppressed: topic?.suppressed ?? 0 });
  }

  /** The trailing line: the latest change left out, from where the last line left the decision. */
  private trail(key: string): void {
    const topic = this.topics.get(key);
    // Stryker: ConditionalExpression (-> false) equivalent: a timer is armed for a topic that exists, and topics are never removed.
    if (topic === undefined) return;
    topic.timer = undefined;
    const change = topic.pending;
    topic.pending = undefined;
    // Back where the last line left it: the log is right as it is, and the count goes on to the next line.
    // Stryker: ConditionalExpression (`change === undefined` -> false) equivalent: a timer fires only with a change pending (a line
    // that overtakes it clears it).
    if (change === undefined || change.to === topic.lastTo) return;
    const from = topic.lastTo;
    const suppressed = topic.suppressed - 1;
    topic.at = this.now();
    topic.suppressed = 0;
    topic.lastTo = change.to;
    this.emit({ ...change, from, suppressed });
  }
}
