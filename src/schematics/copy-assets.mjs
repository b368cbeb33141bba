// Copies what tsc does not emit (collection.json, schemas, templates) next to the compiled
// schematics: node src/schematics/copy-assets.mjs (run by `npm run build`).
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('.', import.meta.url));
const target = fileURLToPath(new URL('../../dist/src/schematics/', import.meta.url));
cpSync(source, target, {
  recursive: true,
  filter: (path) => !/\.(ts|mjs)$/.test(path) || path.endsWith('.template'),
});
