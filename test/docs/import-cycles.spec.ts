import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { LAYERS, layersMarkdown, mayImport, unitOf } from './layers.js';

const SRC = join(import.meta.dirname, '../../src');

/** The package's own name: src/ imports itself by relative paths only, never through its exports. */
const SELF = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')).name as string;

/**
 * The modules a source imports or re-exports, as TypeScript's own scanner reads them: `import ...
 * from`, `import type`, `export ... from`, `import './x.js'`, `import()` and `import('x').T` types,
 * whatever the quotes (a regular expression missed double quotes and template literals).
 */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/**
 * Every `.ts` file of src/ with the files it imports or re-exports (type-only too). A path without
 * `.js` is read as its `.ts` file; an import of the package by its own name stays as written, a
 * unit of no layer, so the table refuses it.
 */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
  );
  for (const file of files) {
    const source = readFileSync(join(SRC, file), 'utf8');
    const imports = specifiers(source)
      .filter((specifier) => specifier.startsWith('.') || isSelf(specifier))
      .map((specifier) =>
        isSelf(specifier)
          ? specifier
          : normalize(join(dirname(file), specifier)).replace(/(\.js)?$/, '.ts'),
      );
    graph.set(normalize(file), imports);
  }
  return graph;
}

function isSelf(specifier: string): boolean {
  return specifier === SELF || specifier.startsWith(`${SELF}/`);
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const visit = (file: string, path: string[]): string[] | undefined => {
    if (path.includes(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return undefined;
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next, [...path, file]);
      if (cycle) return cycle;
    }
    done.add(file);
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every import from one unit to another that the layers table does not allow, as `from -> to`. */
function violations(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (!mayImport(unitOf(file), unitOf(target))) found.push(`${file} -> ${target}`);
    }
  }
  return [...new Set(found)].toSorted();
}

/** A Markdown table with its cells trimmed: Prettier pads the columns. */
function cells(table: string): string {
  return table.replace(/ +\|/g, ' |').replace(/\| +/g, '| ').replace(/-{3,}/g, '---');
}

describe('architecture', () => {
  const graph = importGraph();

  it('src/ has no import cycle, type-only imports included', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(findCycle(graph)).toBeUndefined();
  });

  it('the layers table is acyclic and names every unit once', () => {
    const units = LAYERS.map((layer) => layer.unit);
    expect(new Set(units).size).toBe(units.length);
    // Across layers every import goes down: a cycle could only be made of same-layer imports.
    const within = new Map(LAYERS.map((layer) => [layer.unit, [...(layer.within ?? [])]]));
    for (const { unit, layer, within: same = [] } of LAYERS) {
      for (const other of same) {
        expect(LAYERS.find((entry) => entry.unit === other)?.layer, `${unit} -> ${other}`).toBe(
          layer,
        );
      }
    }
    expect(findCycle(within)).toBeUndefined();
  });

  it('every file of src/ belongs to a unit of the table', () => {
    const units = new Set(LAYERS.map((layer) => layer.unit));
    expect([...graph.keys()].filter((file) => !units.has(unitOf(file)))).toEqual([]);
  });

  it('every import follows the layers table, type-only and re-exports included', () => {
    expect(violations(graph), 'imports against the table (docs/architecture.md, "Layers")').toEqual(
      [],
    );
  });

  it('sees every form of import the graph depends on', () => {
    const forms = [
      `import type { A } from '../x.js';`,
      `export { A } from '../x.js';`,
      `import {\n  A,\n  B,\n} from '../x.js';`,
      `import { A } from "../x.js";`,
      `const m = import('../x.js');`,
      'const m = import(`../x.js`);',
      `let a: import('../x.js').A;`,
      `import '../x.js';`,
    ];
    expect(forms.map((form) => [form, specifiers(form)])).toEqual(
      forms.map((form) => [form, ['../x.js']]),
    );
    expect(mayImport('handshake/', unitOf(`${SELF}/testing`))).toBe(false);
  });

  it('docs/architecture.md shows the layers table', () => {
    const page = readFileSync(join(import.meta.dirname, '../../docs/architecture.md'), 'utf8');
    expect(cells(page)).toContain(cells(layersMarkdown()));
  });
});
