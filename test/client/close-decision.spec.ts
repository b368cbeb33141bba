import { describe, expect, it } from 'vitest';
import {
  WebSocketCloseCode as ClientCloseCode,
  isReconnectCloseCode as clientIsReconnect,
} from '../../src/client/index.js';
import { closeDecision, isFinalRefusal, refusedStatus } from '../../src/client/close-decision.js';
import { WebSocketCloseCode, isReconnectCloseCode } from '../../src/index.js';

/** The convention, written out from the close-codes.ts TSDoc (not from its code). */
function expected(code: number): 'resume' | 'reload' | 'stop' {
  if (code === 3000) return 'reload';
  if ([1001, 1006, 1011, 1012, 1013, 1014].includes(code)) return 'resume';
  if ((code >= 3001 && code <= 3499) || (code >= 4000 && code <= 4499)) return 'resume';
  return 'stop';
}

describe('the close-code decision', () => {
  it('for every code from 1000 to 4999: resume, reload (3000) or stop', () => {
    for (let code = 1000; code <= 4999; code++) {
      expect([code, closeDecision(code)]).toEqual([code, expected(code)]);
    }
  });

  it('named cases: stop after 1000, 1008, 3500, 3999, 4500, 4999; resume after 1001, 1006, 4000, 4499', () => {
    const stops = [1000, 1002, 1003, 1007, 1008, 1009, 1010, 1015, 3500, 3999, 4500, 4999];
    expect(stops.map(closeDecision)).toEqual(stops.map(() => 'stop'));
    const resumes = [1001, 1006, 1011, 1012, 1013, 1014, 3001, 3499, 4000, 4499];
    expect(resumes.map(closeDecision)).toEqual(resumes.map(() => 'resume'));
  });

  it('is the one convention the server exports: the same objects from both entries', () => {
    expect(ClientCloseCode).toBe(WebSocketCloseCode);
    expect(clientIsReconnect).toBe(isReconnectCloseCode);
    for (let code = 1000; code <= 4999; code++) {
      expect(closeDecision(code) !== 'stop').toBe(isReconnectCloseCode(code));
    }
  });

  it("reads a refused handshake's status from ws's error, and 4xx but 408 and 429 is final", () => {
    expect(refusedStatus({ message: 'Unexpected server response: 401' })).toBe(401);
    expect(refusedStatus({ message: 'connect ECONNREFUSED 127.0.0.1:1' })).toBeUndefined();
    expect(refusedStatus(undefined)).toBeUndefined();
    expect([400, 401, 403, 404, 408, 429, 500, 503].map(isFinalRefusal)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});
