// The history test app (test/history/history-app.module.mjs) as a bench server: publish to 10,000
// subscribers of a topic with and without history, and publications to resume later.
// Usage: node history.mjs [redisUrl]
import { startHistoryApp } from '../../history/history-app.module.mjs';
import { serveBench } from './control.mjs';

const [redisUrl] = process.argv.slice(2);
const { app, registry, port } = await startHistoryApp({
  redisUrl,
  history: { topics: { kept: { size: 100 }, 'r:*': { size: 1000 } } },
});

/** Publishes `data` to `topic` `count` times; returns how many deliveries that makes here. */
function publishMany(topic, data, count) {
  let passed = 0;
  for (let i = 0; i < count; i++) passed += registry.publish(topic, data);
  return passed;
}

serveBench({
  port,
  fanOut: {
    plain: (data) => registry.publish('plain', data),
    history: (data) => registry.publish('kept', data),
    live300: (data) => publishMany('r:live', data, 300),
    store300: (data) => publishMany('r:resume', data, 300),
  },
  close: () => app.close(),
});
