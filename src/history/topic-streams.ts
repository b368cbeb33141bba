import type { BrokerMessage, WebSocketBroker } from '../interfaces/websocket-broker.interface.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import type { RecoveryResult, SubscribeOptions } from '../interfaces/stream-position.interface.js';
import type { HistoryOptions } from '../interfaces/topic-history-options.interface.js';
import { MemoryStreams } from './memory-streams.js';
import { planRecovery, readWindow } from './recovery.js';
import { TopicHistoryConfig } from './topic-history.config.js';
import { build, TopicSequencer } from './topic-sequencer.js';
import type { TopicStreamsHost } from './topic-streams.host.js';

type BrokerPublication = Extract<BrokerMessage, { kind: 'publish' }>;

const NO_HISTORY_FRESH: RecoveryResult = { recovered: true, replayed: 0, position: undefined };
const NO_HISTORY_SINCE: RecoveryResult = {
  recovered: false,
  reason: 'no-history',
  replayed: 0,
  position: undefined,
};

/**
 * Positions, history and resume for the registry. Two ways to sequence a topic with history:
 * - in this process (`MemoryStreams`), synchronously, when the broker cannot (the in-process
 *   broker, or a custom broker without `readStream`: then each instance numbers its own stream,
 *   with its own epoch, and a resume on another instance answers `reason: 'epoch'`);
 * - by the broker (`readStream`, e.g. `RedisBroker`): the publication comes back from the broker
 *   with its offset, to every instance including this one, and `TopicSequencer` orders it.
 */
export class TopicStreams {
  readonly config: TopicHistoryConfig;
  private readonly memory = new MemoryStreams();
  private readonly sequencer: TopicSequencer | undefined;
  private positionCheck: NodeJS.Timeout | undefined;

  constructor(
    options: HistoryOptions | undefined,
    private readonly broker: WebSocketBroker,
    private readonly host: TopicStreamsHost,
  ) {
    this.config = new TopicHistoryConfig(options);
    const { readStream } = broker;
    if (this.config.enabled && readStream !== undefined) {
      this.sequencer = new TopicSequencer(
        broker as WebSocketBroker & { readStream: typeof readStream },
        host,
      );
      broker.onResync = (topic) => this.sequencer?.resync(topic);
      const { positionCheckMs } = this.config;
      if (positionCheckMs > 0) {
        const sequencer = this.sequencer;
        this.positionCheck = setInterval(() => sequencer.checkPositions(), positionCheckMs).unref();
      }
    }
  }

  /**
   * Publishes `data` to a topic with history; returns how many local connections it was passed
   * to now (0 when the broker sequences it: they get it once it comes back with its offset).
   * `forward` tells whether to hand it to the broker (false for one that came from it).
   */
  publish(
    topic: string,
    data: WebSocketMessage,
    except: WebSocketHandler | undefined,
    forward: boolean,
  ): number | undefined {
    const history = this.config.of(topic);
    if (history === undefined) return undefined;
    const { size, ttlMs } = history;
    if (this.sequencer !== undefined) {
      this.broker.publish({
        kind: 'publish',
        topic,
        data,
        history: { size, ttlMs },
        except: except?.id,
      });
      return 0;
    }
    const position = this.memory.append(topic, data, history);
    if (forward) this.broker.publish({ kind: 'publish', topic, data });
    return this.host.emit(topic, build(history, data, position, topic), except?.id);
  }

  /** A publication the broker delivered; false if it is not one of a topic with history. */
  receive(message: BrokerPublication): boolean {
    if (message.position !== undefined && this.sequencer !== undefined) {
      this.sequencer.receive(message.topic, message.position, message.data, message.except);
      return true;
    }
    return this.publish(message.topic, message.data, undefined, false) !== undefined;
  }

  /** Subscribes `handler` to `topic`, from `options.since` if given (see `handler.subscribe`). */
  subscribe(
    handler: WebSocketHandler,
    topic: string,
    options: SubscribeOptions,
  ): Promise<RecoveryResult> {
    const history = this.config.of(topic);
    if (history === undefined) {
      this.host.join(handler, topic);
      return Promise.resolve(options.since === undefined ? NO_HISTORY_FRESH : NO_HISTORY_SINCE);
    }
    if (this.sequencer !== undefined)
      return this.sequencer.subscribe(handler, topic, history, options);
    const { after, limit } = readWindow(options.since, history.recoveryLimit);
    const read = this.memory.read(topic, after, limit, history);
    const plan = planRecovery(read, options.since, history.recoveryLimit);
    for (const { offset, data } of plan.replay) {
      this.host.deliver(handler, build(history, data, { offset, epoch: read.epoch }, topic));
    }
    this.host.join(handler, topic);
    return Promise.resolve({
      recovered: plan.recovered,
      reason: plan.reason,
      replayed: plan.replay.length,
      position: { offset: read.top, epoch: read.epoch },
    });
  }

  /** `handler` left `topic`; `subscribers` is how many local connections remain. */
  leave(handler: WebSocketHandler, topic: string, subscribers: number): void {
    this.sequencer?.leave(handler, topic, subscribers > 0);
  }

  stop(): void {
    clearInterval(this.positionCheck);
    this.memory.stop();
  }
}
