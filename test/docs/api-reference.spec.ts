import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

const ENTRY_POINTS = ['src/index.ts', 'src/testing/index.ts', 'src/client/index.ts'];

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

function apiReference(): string {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const start = readme.indexOf('## API reference');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe.each(ENTRY_POINTS)('public API of %s', (entry) => {
  const exported = exportsOf(entry);

  it('exports something', () => {
    expect(exported.length).toBeGreaterThan(0);
  });

  it('has TSDoc on every export', () => {
    expect(exported.filter(({ doc }) => doc.trim() === '').map(({ name }) => name)).toEqual([]);
  });

  it("lists every export in the README's API reference", () => {
    const reference = apiReference();
    expect(
      exported.filter(({ name }) => !reference.includes('`' + name)).map(({ name }) => name),
    ).toEqual([]);
  });
});
