// A publisher outside the instances, as a worker or another service would publish: a plain Node
// process with a `RedisBroker` of the built package (the same options as the instances', from
// BENCH_BROKER_OPTIONS), publishing through `broker.publish()` at the offered rate. It delivers
// nothing itself. Usage: REDIS_URL=... node external-publisher.mjs
import { RedisBroker } from '../../../../dist/src/index.js';
import { servePublisher } from './publisher.mjs';

const options = process.env.BENCH_BROKER_OPTIONS
  ? JSON.parse(process.env.BENCH_BROKER_OPTIONS)
  : {};
const broker = new RedisBroker({ url: process.env.REDIS_URL, ...options });
await broker.start(() => {});

servePublisher({
  port: null,
  publish: (topic, data) => broker.publish({ kind: 'publish', topic, data }),
  stats: () => broker.stats(),
  close: () => broker.stop(),
  brokerCode: ['/dist/src/broker/'],
});
