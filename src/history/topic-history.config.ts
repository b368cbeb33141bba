import type {
  HistoryOptions,
  ResolvedTopicHistory,
  TopicHistoryOptions,
} from '../interfaces/topic-history-options.interface.js';

const DEFAULT_SIZE = 100;
const DEFAULT_TTL_MS = 300_000;

/** Which history (if any) each topic keeps, from `WsModule.forRoot({ history })`. */
export class TopicHistoryConfig {
  private readonly exact = new Map<string, ResolvedTopicHistory>();
  private readonly prefixes: [string, ResolvedTopicHistory][] = [];
  private readonly fallback: ResolvedTopicHistory | undefined;
  /** Whether any topic keeps history: without, publish takes no extra step. */
  readonly enabled: boolean;

  constructor(options: HistoryOptions | undefined) {
    for (const [pattern, topic] of Object.entries(options?.topics ?? {})) {
      const resolved = resolve(topic);
      if (pattern.endsWith('*')) this.prefixes.push([pattern.slice(0, -1), resolved]);
      else if (!this.exact.has(pattern)) this.exact.set(pattern, resolved);
    }
    this.fallback = options?.default === undefined ? undefined : resolve(options.default);
    this.enabled = this.exact.size > 0 || this.prefixes.length > 0 || this.fallback !== undefined;
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

function resolve(options: TopicHistoryOptions): ResolvedTopicHistory {
  const size = positiveInteger(options.size, DEFAULT_SIZE);
  return {
    size,
    ttlMs: positiveInteger(options.ttlMs, DEFAULT_TTL_MS),
    recoveryLimit: positiveInteger(options.recoveryLimit, size),
    payload: options.payload,
  };
}

function positiveInteger(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}
