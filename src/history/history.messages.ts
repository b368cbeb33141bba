import { optionValue } from '../ws.messages.js';

/** Bootstrap fails with this for a history option a topic cannot run with (e.g. `size: 0`). */
export const invalidHistoryOptionMessage = (where: string, option: string, value: unknown) =>
  `WsModule.forRoot({ history }): ${where}.${option} is ${optionValue(value)}; ` +
  (option === 'payload'
    ? 'expected a function (data, position, topic) => payload, or none.'
    : 'expected an integer >= 1, or none for the default.');
