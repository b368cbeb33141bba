import type {
  HistoryOptions,
  ResolvedTopicHistory,
  TopicHistoryOptions,
} from '../interfaces/topic-history-options.interface.js';
import { invalidHistoryOptionMessage, invalidPositionCheckMessage } from './history.messages.js';

const DEFAULT_SIZE = 100;
const DEFAULT_TTL_MS = 300_000;
/** Centrifugo's `client_channel_position_check_delay`. */
const DEFAULT_POSITION_CHECK_MS = 40_000;

/** Which history (if any) each topic keeps, from `WsModule.forRoot({ history })`. */
export class TopicHistoryConfig {
  private readonly exact = new Map<string, ResolvedTopicHistory>();
  private readonly prefixes: [string, ResolvedTopicHistory][] = [];
  private readonly fallback: ResolvedTopicHistory | undefined;
  /** Whether any topic keeps history: without, publish takes no extra step. */
  readonly enabled: boolean;
  /** How often quiet topics have their stream read back (ms); 0: never. */
  readonly positionCheckMs: number;

  constructor(options: HistoryOptions | undefined) {
    for (const [pattern, topic] of Object.entries(options?.topics ?? {})) {
      const resolved = resolve(topic, `topics[${JSON.stringify(pattern)}]`);
      if (pattern.endsWith('*')) this.prefixes.push([pattern.slice(0, -1), resolved]);
      else if (!this.exact.has(pattern)) this.exact.set(pattern, resolved);
    }
    this.fallback =
      options?.default === undefined ? undefined : resolve(options.default, 'default');
    this.enabled = this.exact.size > 0 || this.prefixes.length > 0 || this.fallback !== undefined;
    const check = options?.positionCheckMs;
    if (check !== undefined && !(Number.isSafeInteger(check) && check >= 0 && check <= 2 ** 31 - 1))
      throw new Error(invalidPositionCheckMessage(check));
    this.positionCheckMs = check ?? DEFAULT_POSITION_CHECK_MS;
  }

  /** The history `topic` keeps, or undefined for none. */
  of(topic: string): ResolvedTopicHistory | undefined {
    if (!this.enabled) return undefined;
    const exact = this.exact.get(topic);
    if (exact !== undefined) return exact;
    for (const [prefix, resolved] of this.prefixes) if (topic.startsWith(prefix)) return resolved;
    return this.fallback;
  }
}

/** Applies the defaults; throws (bootstrap fails) on a value a topic cannot run with. */
function resolve(options: TopicHistoryOptions, where: string): ResolvedTopicHistory {
  const check = (option: 'size' | 'ttlMs' | 'recoveryLimit', fallback: number): number => {
    const value = options[option];
    if (value === undefined) return fallback;
    if (Number.isSafeInteger(value) && value >= 1) return value;
    throw new Error(invalidHistoryOptionMessage(where, option, value));
  };
  if (options.payload !== undefined && typeof options.payload !== 'function')
    throw new Error(invalidHistoryOptionMessage(where, 'payload', options.payload));
  const size = check('size', DEFAULT_SIZE);
  return {
    size,
    ttlMs: check('ttlMs', DEFAULT_TTL_MS),
    recoveryLimit: check('recoveryLimit', size),
    payload: options.payload,
  };
}
