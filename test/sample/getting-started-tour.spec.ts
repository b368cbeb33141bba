import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

/** The getting-started guide: the reference sample's tour, which quotes the sample's code. */
const section = readFileSync(join(ROOT, 'docs/getting-started.md'), 'utf8');

function sourceLines(dir: string): Set<string> {
  const lines = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js)$/.test(entry.name)) continue;
    for (const line of readFileSync(join(entry.parentPath, entry.name), 'utf8').split('\n'))
      lines.add(line.trim());
  }
  return lines;
}

describe('getting-started tour of the reference sample', () => {
  it('quotes code that exists in sample/, line for line', () => {
    const source = sourceLines(join(ROOT, 'sample'));
    const excerpts = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(excerpts.length).toBeGreaterThan(5);
    const missing = excerpts
      .flatMap((excerpt) => excerpt.split('\n'))
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('// in ') && !source.has(line));
    expect(missing).toEqual([]);
  });

  it('names npm scripts that exist, for every focused example', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const named = [...section.matchAll(/npm run (sample:\w+)/g)].map((match) => match[1]);
    const examples = readdirSync(join(ROOT, 'sample/examples'));
    expect(new Set(named)).toEqual(new Set(examples.map((name) => `sample:${name}`)));
    for (const name of examples) {
      expect(scripts[`sample:${name}`]).toContain(`node dist/sample/examples/${name}/main.js`);
    }
  });

  it('documents every chat error code', () => {
    const protocol = readFileSync(join(ROOT, 'sample/chat/chat.protocol.ts'), 'utf8');
    const codes = /type ChatErrorCode = ([^;]+);/.exec(protocol)![1].match(/'[^']+'/g)!;
    for (const code of codes) expect(section).toContain(`\`${code.slice(1, -1)}\``);
  });
});
