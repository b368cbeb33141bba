import { invalidOptionMessage } from '../ws.messages.js';
import type { ResolvedRouteOptions } from '../interfaces/resolved-route-options.interface.js';

type NumericOption = {
  [K in keyof ResolvedRouteOptions]: ResolvedRouteOptions[K] extends number ? K : never;
}[keyof ResolvedRouteOptions];

/** Each numeric option and its smallest value; all are integers (`maxConnections` may be Infinity). */
const MINIMUMS: Record<NumericOption, number> = {
  maxPayload: 1,
  closeTimeoutMs: 0,
  maxConnections: 0,
  handshakeTimeoutMs: 1,
  heartbeatMs: 0,
  idleTimeoutMs: 0,
  maxBackpressure: 0,
};

/** Node's longest timer (2^31 - 1 ms): a longer delay fires after 1 ms, with only a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The options that become a timer's delay, and so cannot exceed `MAX_TIMER_MS`. */
const TIMERS: ReadonlySet<NumericOption> = new Set([
  'closeTimeoutMs',
  'handshakeTimeoutMs',
  'heartbeatMs',
  'idleTimeoutMs',
]);

const CHOICES: Record<'backpressure' | 'sendAfterClose', readonly string[]> = {
  backpressure: ['close', 'drop'],
  sendAfterClose: ['ignore', 'throw'],
};

/**
 * Fails bootstrap on an option a route cannot run with (a negative timeout, one longer than Node's
 * timers allow, a misspelt policy), naming the route and the option, instead of misbehaving later.
 * `route`: `"/x" (Controller.method)`.
 */
export function assertValidOptions(options: ResolvedRouteOptions, route: string): void {
  for (const [option, minimum] of Object.entries(MINIMUMS) as [NumericOption, number][]) {
    const value = options[option];
    const integer = Number.isInteger(value) || (option === 'maxConnections' && value === Infinity);
    const timer = TIMERS.has(option);
    const maximum = timer ? MAX_TIMER_MS : Infinity;
    if (typeof value !== 'number' || !integer || value < minimum || value > maximum) {
      const expected = timer
        ? `an integer of milliseconds from ${minimum} to ${MAX_TIMER_MS}`
        : `an integer >= ${minimum}`;
      throw new Error(invalidOptionMessage(route, option, value, expected));
    }
  }
  for (const [option, choices] of Object.entries(CHOICES) as [
    keyof typeof CHOICES,
    readonly string[],
  ][]) {
    if (!choices.includes(options[option])) {
      const expected = choices.map((choice) => `'${choice}'`).join(' or ');
      throw new Error(invalidOptionMessage(route, option, options[option], expected));
    }
  }
}
