import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS, layersMarkdown, mayImport, unitOf } from './layers.js';

const SRC = join(import.meta.dirname, '../../src');

/**
 * The relative modules a source imports or re-exports: `import ... from`, `import type`,
 * `export ... from`, `import './x.js'` and `import('./x.js')`.
 */
const IMPORT = /(?:(?:import|export)[^;]*?from\s+|import\s*\(?\s*)'(\.[^']+)'/gs;

/** Every `.ts` file of src/ with the files it imports or re-exports (type-only too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
  );
  for (const file of files) {
    const source = readFileSync(join(SRC, file), 'utf8');
    const imports = [...source.matchAll(IMPORT)].map(([, specifier]) =>
      normalize(join(dirname(file), specifier!)).replace(/\.js$/, '.ts'),
    );
    graph.set(normalize(file), imports);
  }
  return graph;
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

  it('docs/architecture.md shows the layers table', () => {
    const page = readFileSync(join(import.meta.dirname, '../../docs/architecture.md'), 'utf8');
    expect(cells(page)).toContain(cells(layersMarkdown()));
  });
});
