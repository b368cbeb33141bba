import { connect } from '../support/app.js';

/** Echo round trips a healthy client measured while something else misbehaved. */
export interface ProbeResult {
  roundTrips: number;
  maxLatencyMs: number;
}

/**
 * A healthy client that sends a message every `intervalMs` to an echo route and measures each
 * round trip; an echo still missing when it stops counts with its age.
 */
export async function startLatencyProbe(
  url: string,
  intervalMs = 25,
): Promise<{ stop: () => Promise<ProbeResult> }> {
  const client = await connect(url);
  const sentAt = new Map<string, number>();
  let roundTrips = 0;
  let maxLatencyMs = 0;
  let next = 0;
  client.on('message', (data: Buffer) => {
    const started = sentAt.get(data.toString());
    if (started === undefined) return;
    sentAt.delete(data.toString());
    roundTrips++;
    maxLatencyMs = Math.max(maxLatencyMs, performance.now() - started);
  });
  const timer = setInterval(() => {
    const id = String(next++);
    sentAt.set(id, performance.now());
    client.send(id);
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await new Promise((resolve) => setTimeout(resolve, intervalMs * 4));
      for (const started of sentAt.values())
        maxLatencyMs = Math.max(maxLatencyMs, performance.now() - started);
      client.terminate();
      return { roundTrips, maxLatencyMs: Math.round(maxLatencyMs) };
    },
  };
}
