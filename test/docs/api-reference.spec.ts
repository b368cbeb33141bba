import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

/** The public entry points: typedoc.json's list, which `npm run docs` documents in docs/api/. */
const TYPEDOC = JSON.parse(readFileSync(`${ROOT}/typedoc.json`, 'utf8')) as {
  entryPoints: string[];
  out: string;
};
const ENTRY_POINTS = TYPEDOC.entryPoints;

/** Every exported symbol of an entry point, with the TSDoc of its declaration. */
function exportsOf(entry: string): { name: string; doc: string }[] {
  const program = ts.createProgram([`${ROOT}/${entry}`], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(`${ROOT}/${entry}`)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return {
      name: symbol.getName(),
      doc: ts.displayPartsToString(target.getDocumentationComment(checker)),
    };
  });
}

/** Every file under `dir`, by path relative to it, with its text. */
function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(dir.length + 1), readFileSync(path, 'utf8'));
  }
  return files;
}

describe.each(ENTRY_POINTS)('public API of %s', (entry) => {
  const exported = exportsOf(entry);

  it('exports something', () => {
    expect(exported.length).toBeGreaterThan(0);
  });

  it('has TSDoc on every export', () => {
    expect(exported.filter(({ doc }) => doc.trim() === '').map(({ name }) => name)).toEqual([]);
  });
});

describe('the generated API reference in docs/api', () => {
  it('has a page for every export of every entry point', () => {
    const titles = new Set(
      [...filesOf(join(ROOT, TYPEDOC.out)).values()].map(
        (text) => /^# [A-Za-z ]+: (\w+)/.exec(text)?.[1],
      ),
    );
    const missing = ENTRY_POINTS.flatMap((entry) =>
      exportsOf(entry)
        .map(({ name }) => name)
        .filter((name) => !titles.has(name)),
    );
    expect(missing).toEqual([]);
  });

  it('is what `npm run docs` generates from the code now', { timeout: 180_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'api-reference-'));
    try {
      await promisify(execFile)(join(ROOT, 'node_modules/.bin/typedoc'), ['--out', out], {
        cwd: ROOT,
      });
      const fresh = filesOf(out);
      const committed = filesOf(join(ROOT, TYPEDOC.out));
      const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
        (path) => fresh.get(path) !== committed.get(path),
      );
      expect(stale, `docs/api is out of date in these files: run \`npm run docs\``).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
