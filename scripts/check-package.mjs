// Checks that the tarball `npm pack` would publish holds what the README promises: every entry point
// of the `exports` map (JavaScript and declarations), the schematics collection with its factories,
// schemas and templates, README, CHANGELOG and LICENSE (when there is one), and nothing from test/
// or sample/, and source maps that carry their sources. Run after `npm run build` (it is part of `npm run lint`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }),
)[0];
const files = new Set(packed.files.map((file) => file.path));
const relative = (path) => normalize(path).replace(/^\.\//, '');

const expected = ['package.json', 'README.md', 'CHANGELOG.md'];
if (existsSync(join(root, 'LICENSE'))) expected.push('LICENSE');
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') expected.push(relative(target));
  else
    for (const condition of ['types', 'default']) {
      if (!target[condition])
        throw new Error(`exports["${subpath}"] has no "${condition}" condition`);
      expected.push(relative(target[condition]));
    }
}
const collection = relative(pkg.schematics);
expected.push(collection);
if (files.has(collection)) {
  const schematics = JSON.parse(readFileSync(join(root, collection), 'utf8')).schematics;
  for (const [name, { factory, schema }] of Object.entries(schematics)) {
    expected.push(join(dirname(collection), `${factory.split('#')[0]}.js`));
    expected.push(join(dirname(collection), schema));
    const templates = join(dirname(collection), name, 'files/');
    if (existsSync(join(root, 'src/schematics', name, 'files'))) {
      if (![...files].some((file) => file.startsWith(templates)))
        expected.push(`${templates}(templates)`);
    }
  }
}

const missing = expected.filter((file) => !files.has(file));
// src/ is not shipped, so a source map must carry its sources (`inlineSources`).
for (const file of files) {
  if (!file.endsWith('.js.map')) continue;
  const map = JSON.parse(readFileSync(join(root, file), 'utf8'));
  if (!map.sourcesContent?.every((text) => typeof text === 'string'))
    missing.push(`${file} (sourcesContent: build with "inlineSources")`);
}
const stray = [...files].filter((file) => /^(test|sample|src)\//.test(file));
if (missing.length || stray.length) {
  if (missing.length) console.error(`The packed tarball lacks:\n  ${missing.join('\n  ')}`);
  if (stray.length)
    console.error(`The packed tarball holds files users do not need:\n  ${stray.join('\n  ')}`);
  console.error('Fix "files" or "exports" in package.json, or run `npm run build` first.');
  process.exit(1);
}
console.log(
  `Packed tarball: ${files.size} files, every entry point, the schematics, README and CHANGELOG.`,
);
