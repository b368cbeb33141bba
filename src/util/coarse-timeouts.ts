/** The longest tick of a lane, in ms. */
const MAX_TICK_MS = 50;

/** Empty ticks in a row after which a lane stops its interval (a second at the longest tick). */
const IDLE_TICKS_BEFORE_STOP = 20;

/** How often the lane of `delayMs` ticks: a twentieth of the delay, between 1 and 50 ms. */
function tickOf(delayMs: number): number {
  return Math.max(1, Math.min(MAX_TICK_MS, Math.ceil(delayMs / 20)));
}

/**
 * How late a timeout of `delayMs` may fire (beyond what a busy event loop adds): two ticks of its
 * lane, a tenth of the delay, at most 100 ms.
 */
export function granularityOf(delayMs: number): number {
  return 2 * tickOf(delayMs);
}

/**
 * Timeouts for many short-lived items (handshakes) without a Node timer for each: items with the
 * same delay share one lane, an insertion-ordered map from item to the tick it is due at, and one
 * interval that runs while the lane has items (and 20 ticks more). Adding is a `Map.set` (no clock read),
 * cancelling a `Map.delete`; a timeout fires between `delayMs` and `delayMs + granularityOf(delayMs)`
 * after it was added. The intervals are unref'd: a pending timeout does not keep the process alive.
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

/**
 * The items of one delay. Same delay, so insertion order is due order: a tick stops at the first
 * item not due. Time is counted in ticks of the lane's interval, which never come early: an item
 * added between ticks `k` and `k + 1` is due at tick `k + 1 + ceil(delay / tick)`.
 */
export class TimeoutLane<T> {
  private readonly due = new Map<T, number>();
  private readonly tickMs: number;
  private readonly ticksPerDelay: number;
  private ticks = 0;
  /** Ticks in a row that found the lane empty. */
  private idleTicks = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTick = () => this.expire();

  constructor(
    delayMs: number,
    private readonly onTimeout: (item: T) => void,
  ) {
    this.tickMs = tickOf(delayMs);
    this.ticksPerDelay = Math.ceil(delayMs / this.tickMs);
  }

  add(item: T): void {
    this.due.set(item, this.ticks + 1 + this.ticksPerDelay);
    if (this.timer === undefined) {
      this.timer = setInterval(this.onTick, this.tickMs);
      this.timer.unref();
    }
  }

  /** Cancels `item`'s timeout (nothing when it fired or was cancelled already). */
  delete(item: T): void {
    // The interval stops after IDLE_TICKS_BEFORE_STOP ticks of an empty lane: handshakes that come
    // and go between ticks do not start and stop a timer each.
    this.due.delete(item);
  }

  private expire(): void {
    const now = ++this.ticks;
    for (const [item, due] of this.due) {
      if (due > now) break;
      this.due.delete(item);
      this.onTimeout(item);
    }
    if (this.due.size > 0) this.idleTicks = 0;
    else if (++this.idleTicks >= IDLE_TICKS_BEFORE_STOP) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
