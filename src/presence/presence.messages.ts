/** Texts the presence stores throw or log; the "Errors you can hit" table of docs/options-and-errors.md explains them. */
export const presenceInfoNotJsonMessage = (topic: string, cause: string) =>
  `joinPresence("${topic}", info): info must be a JSON-serialisable object (${cause})`;

export const presenceUnavailableMessage = (url: string) =>
  `Presence is unavailable: Redis at ${url} is not reachable; try again once it is back`;

export const presenceLostMessage = (url: string, cause: string) =>
  `RedisPresence lost Redis at ${url} (${cause}); this instance's members are recorded again once it is back`;

export const presenceRestoredMessage = (url: string, members: number) =>
  `RedisPresence reconnected to Redis at ${url}; recorded this instance's ${members} member(s) again`;

export const presenceEventMalformedMessage = (channel: string) =>
  `RedisPresence ignored a message on "${channel}" that is not a presence event`;

export const presenceHeartbeatInvalidMessage = (heartbeatMs: unknown) =>
  `RedisPresence: heartbeatMs must be a number from 10 to 2147483647 ms (got ${typeof heartbeatMs === 'number' ? String(heartbeatMs) : (JSON.stringify(heartbeatMs) ?? String(heartbeatMs))})`;
