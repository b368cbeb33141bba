import { optionValue } from '../ws.messages.js';

/** The reason of the 3000 close of a connection whose handler has no `onContinuityLost()`. */
export const lostContinuityReason = 'lost continuity';

/** Bootstrap fails with this for a `positionCheckMs` that is not a time. */
export const invalidPositionCheckMessage = (value: unknown) =>
  `WsModule.forRoot({ history }): positionCheckMs is ${optionValue(value)}; ` +
  'expected an integer of milliseconds from 0 (no check) to 2147483647, or none for the default (40000).';

/** Bootstrap fails with this for a history option a topic cannot run with (e.g. `size: 0`). */
export const invalidHistoryOptionMessage = (where: string, option: string, value: unknown) =>
  `WsModule.forRoot({ history }): ${where}.${option} is ${optionValue(value)}; ` +
  (option === 'payload'
    ? 'expected a function (data, position, topic) => payload, or none.'
    : 'expected an integer >= 1, or none for the default.');
