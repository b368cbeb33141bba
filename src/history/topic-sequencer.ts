import type { StreamLimits, WebSocketBroker } from '../interfaces/websocket-broker.interface.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import type {
  RecoveryResult,
  StreamPosition,
  StreamRead,
  SubscribeOptions,
} from '../interfaces/stream-position.interface.js';
import type { ResolvedTopicHistory } from '../interfaces/topic-history-options.interface.js';
import { planRecovery, readWindow } from './recovery.js';
import type { TopicStreamsHost } from './topic-streams.host.js';

/** What a resume resolves to when its connection left the topic, or closed, during the read. */
const LEFT: RecoveryResult = {
  recovered: false,
  reason: 'closed',
  replayed: 0,
  position: undefined,
};

/** A publication as the broker delivered it. */
interface Sequenced {
  position: StreamPosition;
  data: WebSocketMessage;
  except: string | undefined;
}

/** A built publication, as a resuming connection receives it. */
interface Built {
  offset: number;
  epoch: string;
  payload: WebSocketMessage;
}

/**
 * A connection between `subscribe(topic, { since })` and joining the topic's subscribers: while
 * the stream is read, and until the next event-loop turn after `subscribe()` resolved
 * (`settling`), the topic's publications are `held`; after, until the instance's own sequence has
 * caught up with it, they are sent to it one by one (deduplicated by offset).
 */
interface Resumer {
  handler: WebSocketHandler;
  held: Built[] | undefined;
  settling: boolean;
  epoch: string;
  last: number;
}

/** One topic this instance follows: the last offset delivered here, and what waits for a gap. */
interface TopicState {
  history: ResolvedTopicHistory;
  epoch: string | undefined;
  last: number;
  healing: boolean;
  /** Asked to heal while a read was under way: read again after it (it may predate the cause). */
  again: boolean;
  /** A publication came since the last position check (a busy topic needs no read). */
  active: boolean;
  held: Sequenced[];
  resumers: Set<Resumer>;
}

/**
 * Orders a broker's sequenced publications per topic on this instance: delivers them in offset
 * order exactly once, reads a missed range back from the stream when offsets jump (or after an
 * outage), and tells the subscribers when the stream no longer has it (Centrifugo's
 * "insufficient state"). Also runs resumes: history first, then the live publications, with the
 * ones that arrive meanwhile held and deduplicated by offset.
 */
export class TopicSequencer {
  private readonly states = new Map<string, TopicState>();

  constructor(
    private readonly broker: WebSocketBroker & {
      readStream: NonNullable<WebSocketBroker['readStream']>;
    },
    private readonly host: TopicStreamsHost,
  ) {}

  /** A publication the broker delivered. */
  receive(topic: string, position: StreamPosition, data: WebSocketMessage, except?: string): void {
    const state = this.states.get(topic);
    if (state !== undefined) this.accept(topic, state, { position, data, except });
  }

  /** Subscribes `handler` from `options.since` (see `handler.subscribe`). */
  async subscribe(
    handler: WebSocketHandler,
    topic: string,
    history: ResolvedTopicHistory,
    options: SubscribeOptions,
  ): Promise<RecoveryResult> {
    const state = this.follow(topic, history);
    const resumer: Resumer = { handler, held: [], settling: false, epoch: '', last: 0 };
    state.resumers.add(resumer);
    const { after, limit } = readWindow(options.since, history.recoveryLimit);
    let read: StreamRead;
    try {
      read = await this.broker.readStream(topic, after, limit, limitsOf(history));
    } catch {
      state.resumers.delete(resumer);
      this.host.join(handler, topic);
      return { recovered: false, reason: 'unavailable', replayed: 0, position: undefined };
    }
    // It unsubscribed (maybe to subscribe again, which replays on its own) or closed meanwhile.
    if (!state.resumers.has(resumer)) return LEFT;
    const plan = planRecovery(read, options.since, history.recoveryLimit);
    resumer.epoch = read.epoch;
    resumer.last = plan.recovered ? (options.since?.offset ?? read.top) : read.top;
    // Everything sent before the result counts: the history read back, and the live publications
    // that arrived while it was read (held, sent after it unless the read had them too).
    let replayed = 0;
    for (const publication of plan.replay) {
      const position = { offset: publication.offset, epoch: read.epoch };
      const payload = build(history, publication.data, position, topic);
      if (this.sendTo(resumer, { ...position, payload })) replayed++;
    }
    for (const built of resumer.held ?? []) if (this.sendTo(resumer, built)) replayed++;
    // `position` is where the connection is now: what comes after it waits for the caller's code
    // after `await subscribe()` (e.g. a frame carrying `position`, which a client resumes from:
    // a later publication sent before that frame would be replayed to it again on its resume).
    resumer.held = [];
    resumer.settling = true;
    setImmediate(() => this.settle(topic, state, resumer));
    const position = { offset: resumer.last, epoch: resumer.epoch };
    return {
      recovered: plan.recovered,
      reason: plan.reason,
      replayed,
      position,
    };
  }

  /** `handler` left `topic` (or closed). */
  leave(handler: WebSocketHandler, topic: string, stillSubscribed: boolean): void {
    const state = this.states.get(topic);
    if (state === undefined) return;
    for (const resumer of state.resumers)
      if (resumer.handler === handler) state.resumers.delete(resumer);
    if (!stillSubscribed && state.resumers.size === 0) this.states.delete(topic);
  }

  /**
   * The position check (Centrifugo's): a topic that got nothing since the previous check has its
   * stream read from the last offset, so a publication that Pub/Sub lost without a reconnection is
   * delivered even if no later one reveals the gap. A busy topic needs none: its next publication
   * would show a jump.
   */
  checkPositions(): void {
    for (const [topic, state] of this.states) {
      if (!state.active) this.heal(topic, state);
      state.active = false;
    }
  }

  /** After an outage, or once the broker follows `topic`: read the stream(s) from the last offset. */
  resync(topic?: string): void {
    if (topic === undefined) {
      for (const [name, state] of this.states) this.heal(name, state);
      return;
    }
    const state = this.states.get(topic);
    if (state !== undefined) this.heal(topic, state);
  }

  private follow(topic: string, history: ResolvedTopicHistory): TopicState {
    let state = this.states.get(topic);
    if (state === undefined) {
      state = {
        history,
        epoch: undefined,
        last: 0,
        healing: false,
        again: false,
        active: true,
        held: [],
        resumers: new Set(),
      };
      this.states.set(topic, state);
      this.heal(topic, state);
    }
    return state;
  }

  private accept(topic: string, state: TopicState, publication: Sequenced): void {
    state.active = true;
    const { offset, epoch } = publication.position;
    if (state.healing) {
      state.held.push(publication);
    } else if (state.epoch === undefined || epoch !== state.epoch || offset > state.last + 1) {
      // also when the first read failed (Redis away or not answering): this retries it
      state.held.push(publication);
      this.heal(topic, state);
    } else if (offset === state.last + 1) {
      state.last = offset;
      this.emit(topic, state, publication);
    }
  }

  private emit(topic: string, state: TopicState, publication: Sequenced): void {
    const { position } = publication;
    const payload = build(state.history, publication.data, position, topic);
    this.host.emit(topic, payload, publication.except);
    for (const resumer of state.resumers) {
      const built = { ...position, payload };
      if (resumer.held !== undefined) resumer.held.push(built);
      else if (publication.except !== resumer.handler.id) {
        this.sendTo(resumer, built);
        this.promoteIfCaughtUp(topic, state, resumer);
      }
    }
  }

  /** Reads the stream after the last offset delivered here; delivers what was missed, then what was held. */
  private heal(topic: string, state: TopicState): void {
    if (state.healing) {
      state.again = true;
      return;
    }
    state.healing = true;
    const known = state.epoch !== undefined;
    const limit = known ? state.history.size : 0;
    this.broker.readStream(topic, state.last, limit, limitsOf(state.history)).then(
      (read) => {
        state.healing = false;
        if (this.states.get(topic) !== state) return;
        if (known) this.catchUp(topic, state, read);
        else this.start(state, read);
        const held = state.held.splice(0).toSorted((a, b) => a.position.offset - b.position.offset);
        for (const publication of held) this.accept(topic, state, publication);
        for (const resumer of state.resumers) {
          if (resumer.held === undefined) this.promoteIfCaughtUp(topic, state, resumer);
        }
        this.healAgainIfAsked(topic, state);
      },
      // Retried at the next resync (the broker reconnects and calls onResync).
      () => {
        state.healing = false;
        state.again = false;
      },
    );
  }

  /**
   * The first read of a topic followed here: its epoch, and the offset live delivery goes on from,
   * the stream's top, or just before the first publication held while the read ran (it came
   * after the topic was followed: a read retried after a failure comes after such publications).
   */
  private start(state: TopicState, read: StreamRead): void {
    state.epoch = read.epoch;
    state.last = read.top;
    for (const held of state.held) {
      if (held.position.epoch === read.epoch && held.position.offset <= state.last) {
        state.last = held.position.offset - 1;
      }
    }
  }

  private healAgainIfAsked(topic: string, state: TopicState): void {
    if (!state.again || this.states.get(topic) !== state) return;
    state.again = false;
    this.heal(topic, state);
  }

  private catchUp(topic: string, state: TopicState, read: StreamRead): void {
    if (read.epoch !== state.epoch) {
      state.epoch = read.epoch;
      state.last = read.top;
      state.held = state.held.filter((held) => held.position.epoch === read.epoch);
      this.lost(topic, state, 'epoch');
      return;
    }
    const first = read.publications[0]?.offset ?? read.top + 1;
    if (first > state.last + 1 && read.top > state.last) {
      state.last = first - 1;
      this.lost(topic, state, 'too-old');
    }
    for (const publication of read.publications) {
      if (publication.offset !== state.last + 1) continue;
      state.last = publication.offset;
      const position = { offset: publication.offset, epoch: read.epoch };
      this.emit(topic, state, { position, data: publication.data, except: undefined });
    }
  }

  private lost(topic: string, state: TopicState, reason: 'epoch' | 'too-old'): void {
    const loss = { topic, reason, position: { offset: state.last, epoch: state.epoch! } };
    // A settling resumer gets what it was sent before the loss first, then the loss.
    for (const resumer of state.resumers) this.settle(topic, state, resumer);
    this.host.lost(loss);
    const following = [...state.resumers].filter((resumer) => resumer.held === undefined);
    for (const resumer of following) {
      resumer.epoch = loss.position.epoch;
      resumer.last = loss.position.offset;
    }
    this.host.lost(
      loss,
      following.map((resumer) => resumer.handler),
    );
  }

  /** Sends a resumer what was held since its `subscribe()` resolved; then it follows the topic. */
  private settle(topic: string, state: TopicState, resumer: Resumer): void {
    // Not if it left meanwhile (unsubscribed or closed).
    if (!resumer.settling || !state.resumers.has(resumer)) return;
    resumer.settling = false;
    const held = resumer.held ?? [];
    resumer.held = undefined;
    for (const built of held) this.sendTo(resumer, built);
    this.promoteIfCaughtUp(topic, state, resumer);
  }

  /** Sends `built` unless the resumer has it already (by offset); returns whether it was sent. */
  private sendTo(resumer: Resumer, built: Built): boolean {
    if (built.epoch === resumer.epoch && built.offset <= resumer.last) return false;
    resumer.epoch = built.epoch;
    resumer.last = built.offset;
    this.host.deliver(resumer.handler, built.payload);
    return true;
  }

  /** Once this instance's sequence has reached the resumer's offset, it joins the subscribers. */
  private promoteIfCaughtUp(topic: string, state: TopicState, resumer: Resumer): void {
    if (state.epoch !== resumer.epoch || state.last < resumer.last) return;
    state.resumers.delete(resumer);
    this.host.join(resumer.handler, topic);
  }
}

/** The payload sockets get for a publication: built by the topic's `payload` option, or the data. */
export function build(
  history: ResolvedTopicHistory,
  data: WebSocketMessage,
  position: StreamPosition,
  topic: string,
): WebSocketMessage {
  return history.payload === undefined ? data : history.payload(data, position, topic);
}

function limitsOf(history: ResolvedTopicHistory): StreamLimits {
  return { size: history.size, ttlMs: history.ttlMs };
}
