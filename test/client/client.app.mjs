// The client tests' app as its own process (client-app.module.mjs). Env: REDIS_URL (none:
// in-process broker), PORT (default 0). Prints the URL it listens on.
import { startClientApp } from './client-app.module.mjs';

const { port } = await startClientApp({
  redisUrl: process.env.REDIS_URL || undefined,
  port: Number(process.env.PORT ?? 0),
});
console.log(`Listening on http://127.0.0.1:${port}`);
