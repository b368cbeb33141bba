import { performance } from 'node:perf_hooks';

/** The longest a timeout may fire late, in ms: a tenth of its delay, at most this. */
const MAX_GRANULARITY_MS = 100;

/** How late a timeout of `delayMs` may fire: a tenth of the delay, between 1 and 100 ms. */
export function granularityOf(delayMs: number): number {
  return Math.max(1, Math.min(MAX_GRANULARITY_MS, Math.ceil(delayMs / 10)));
}

/**
 * Timeouts for many short-lived items (handshakes) without a Node timer for each: items with the
 * same delay share one lane, an insertion-ordered map from item to deadline, and one interval that
 * runs only while the lane has items. Adding is a clock read and a `Map.set`, cancelling a
 * `Map.delete`; a timeout fires between `delayMs` and `delayMs + granularityOf(delayMs)` after it
 * was added. The intervals are unref'd: a pending timeout does not keep the process alive.
 */
export class CoarseTimeouts<T> {
  private readonly lanes = new Map<number, TimeoutLane<T>>();

  /** `onTimeout` gets each item whose delay ran out before it was cancelled; it must not throw. */
  constructor(private readonly onTimeout: (item: T) => void) {}

  /** Starts `item`'s timeout; returns its lane, which cancels it (`lane.delete(item)`). */
  add(item: T, delayMs: number): TimeoutLane<T> {
    let lane = this.lanes.get(delayMs);
    if (lane === undefined) {
      lane = new TimeoutLane(delayMs, this.onTimeout);
      this.lanes.set(delayMs, lane);
    }
    lane.add(item);
    return lane;
  }
}

/** The items of one delay. Same delay, so insertion order is deadline order: a tick stops at the first not due. */
export class TimeoutLane<T> {
  private readonly deadlines = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tick = () => this.expire();

  constructor(
    private readonly delayMs: number,
    private readonly onTimeout: (item: T) => void,
  ) {}

  add(item: T): void {
    this.deadlines.set(item, performance.now() + this.delayMs);
    if (this.timer === undefined) {
      this.timer = setInterval(this.tick, granularityOf(this.delayMs));
      this.timer.unref();
    }
  }

  /** Cancels `item`'s timeout (nothing when it fired or was cancelled already). */
  delete(item: T): void {
    // The interval stops at its next tick once the lane is empty: a handshake at a time does not
    // start and stop a timer each.
    this.deadlines.delete(item);
  }

  private expire(): void {
    const now = performance.now();
    for (const [item, deadline] of this.deadlines) {
      if (deadline > now) break;
      this.deadlines.delete(item);
      this.onTimeout(item);
    }
    if (this.deadlines.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
