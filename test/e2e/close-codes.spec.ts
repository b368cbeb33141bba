import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WebSocketCloseCode, isReconnectCloseCode, isSendableCloseCode } from '../../src/index.js';
import { ROOT } from '../support/process.js';

describe('close-code convention', () => {
  it('reconnects after going away, no close frame, server errors and try-again-later', () => {
    const reconnect = [1001, 1006, 1011, 1012, 1013, 1014];
    const stay = [1000, 1002, 1003, 1007, 1008, 1009, 1010];
    expect(reconnect.filter((code) => !isReconnectCloseCode(code))).toEqual([]);
    expect(stay.filter(isReconnectCloseCode)).toEqual([]);
  });

  it('splits the application range as Centrifugo does: x000-x499 reconnect, x500-x999 do not', () => {
    for (const code of [3000, 3499, 4000, 4499]) expect(isReconnectCloseCode(code)).toBe(true);
    for (const code of [3500, 3999, 4500, 4999]) expect(isReconnectCloseCode(code)).toBe(false);
    expect(isReconnectCloseCode(WebSocketCloseCode.LOST_CONTINUITY)).toBe(true);
  });

  it("names only codes a server may send, each in the lifecycle guide's table", () => {
    const guide = readFileSync(`${ROOT}/docs/lifecycle.md`, 'utf8');
    const table = guide.slice(guide.indexOf('## Close codes'), guide.indexOf('## Errors and'));
    for (const [name, code] of Object.entries(WebSocketCloseCode)) {
      expect([name, isSendableCloseCode(code)]).toEqual([name, true]);
      expect(table).toContain(`${code} \`${name}\``);
    }
  });
});
