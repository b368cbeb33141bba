import { WebSocket } from 'ws';
import type { ServerMessage } from '../../sample/chat/chat.protocol.js';
import { decodeEnvelope } from '../../src/resume.wire.js';

/**
 * A `chat.v1` client for the tests: every message the server sent, in order, none lost, out of
 * the resume envelope (the page's `ReconnectingWebSocket` does the same).
 */
export interface ChatClient {
  socket: WebSocket;
  /** The next message not yet taken (waits up to 5 s). */
  next(): Promise<ServerMessage>;
  /** Sends `{ type: 'say', text }`. */
  say(text: string): void;
}

export async function joinChat(port: number, room: string, name: string): Promise<ChatClient> {
  const query = new URLSearchParams({ room, name });
  const socket = new WebSocket(`ws://127.0.0.1:${port}/chat?${query}`, 'chat.v1');
  // The server speaks first, possibly in the same packet as the handshake's answer, and ws may
  // emit several messages in one tick: listen from the start and buffer.
  const inbox: ServerMessage[] = [];
  const waiting: ((message: ServerMessage) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    // A `said` comes in the resume envelope (its `data`); the room's subscribe reply is skipped.
    const envelope = decodeEnvelope(data.toString());
    if (envelope?.data === undefined && envelope) return;
    const message = JSON.parse(envelope?.data ?? data.toString()) as ServerMessage;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    next: () => {
      const message = inbox.shift();
      if (message) return Promise.resolve(message);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no message within 5 s`)), 5000);
        waiting.push((received) => {
          clearTimeout(timer);
          resolve(received);
        });
      });
    },
    say: (text) => socket.send(JSON.stringify({ type: 'say', text })),
  };
}
