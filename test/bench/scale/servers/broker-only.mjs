// The broker of one scale-out instance, alone: a `RedisBroker` of the built package with no Nest
// app and no sockets, following (`topicJoined`) the topics the instance's clients would follow and
// counting what it delivers. Its process CPU is the broker's CPU, plus what an idle Node process
// spends (measured apart, see broker-only.mjs). Options as the instances' (BENCH_BROKER_OPTIONS).
// Usage: REDIS_URL=... node broker-only.mjs
import { RedisBroker } from '../../../../dist/src/index.js';
import { servePublisher } from './publisher.mjs';

const options = process.env.BENCH_BROKER_OPTIONS
  ? JSON.parse(process.env.BENCH_BROKER_OPTIONS)
  : {};
const broker = new RedisBroker({ url: process.env.REDIS_URL, ...options });
// Publications of the measured window (payload `m:<ns>;…`, publisher.mjs) for a followed topic:
// what the registry would deliver. With one channel the broker hands over every publication and
// the registry drops the others by topic, as here.
const followed = new Set();
let delivered = 0;
const M = 'm'.charCodeAt(0);
await broker.start((message) => {
  if (message.kind !== 'publish' || !followed.has(message.topic)) return;
  if (message.data.charCodeAt(0) === M) delivered++;
});

servePublisher({
  port: null,
  publish: (topic, data) => broker.publish({ kind: 'publish', topic, data }),
  stats: () => ({ ...broker.stats(), delivered }),
  close: () => broker.stop(),
  brokerCode: ['/dist/src/broker/'],
  more: {
    follow: ({ topics }) => {
      for (const topic of topics) {
        followed.add(topic);
        broker.topicJoined(topic);
      }
    },
  },
});
