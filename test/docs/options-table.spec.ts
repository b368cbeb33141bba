import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/ws.constants.js';
import { ROOT } from '../support/process.js';

/** The options table of docs/options-and-errors.md: option name to its default cell. */
function optionsTable(): Map<string, string> {
  const page = readFileSync(join(ROOT, 'docs/options-and-errors.md'), 'utf8');
  const section = page.slice(page.indexOf('## Options'), page.indexOf('\n### '));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((row) => row.startsWith('| `'))) {
    const [names, defaults] = line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim());
    for (const [, name] of names.matchAll(/`([^`]+)`/g)) rows.set(name, defaults);
  }
  return rows;
}

const INTERFACES = {
  WsModuleOptions: 'src/interfaces/ws-module-options.interface.ts',
  TopicHistoryOptions: 'src/interfaces/topic-history-options.interface.ts',
};

/** The property names of the INTERFACES, inherited ones included (one program for all). */
function optionNames(): Record<keyof typeof INTERFACES, string[]> {
  const files = Object.values(INTERFACES).map((file) => join(ROOT, file));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const propertiesOf = (name: string, file: string) => {
    const source = program.getSourceFile(join(ROOT, file))!;
    const symbol = checker
      .getExportsOfModule(checker.getSymbolAtLocation(source)!)
      .find((exported) => exported.getName() === name)!;
    return checker
      .getDeclaredTypeOfSymbol(symbol)
      .getProperties()
      .map((property) => property.getName());
  };
  return {
    WsModuleOptions: propertiesOf('WsModuleOptions', INTERFACES.WsModuleOptions),
    TopicHistoryOptions: propertiesOf('TopicHistoryOptions', INTERFACES.TopicHistoryOptions),
  };
}

/** A default as the table writes it: `1048576`, `'close'`, `false`. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `\`'${value}'\`` : `\`${String(value)}\``;
}

describe('the options table of docs/options-and-errors.md', () => {
  const table = optionsTable();

  it(
    'has a row for every option of WsModule.forRoot() and @WebSocketRoute()',
    { timeout: 60_000 },
    () => {
      const names = optionNames();
      const history = names.TopicHistoryOptions.map((name) => `history…${name}`);
      expect(names.WsModuleOptions).toContain('maxPayload');
      expect(
        [...names.WsModuleOptions, ...history, 'history.positionCheckMs'].filter(
          (name) => !table.has(name),
        ),
      ).toEqual([]);
    },
  );

  it('gives the defaults the code uses', () => {
    const wrong = Object.entries(DEFAULT_OPTIONS)
      .filter(([name, value]) => !table.get(name)?.startsWith(shown(value)))
      .map(
        ([name, value]) => `${name}: the code says ${shown(value)}, the table ${table.get(name)}`,
      );
    expect(wrong).toEqual([]);
  });
});
