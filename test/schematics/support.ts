import { Tree } from '@angular-devkit/schematics';
import { SchematicTestRunner, type UnitTestTree } from '@angular-devkit/schematics/testing';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built collection: schematics load through require(), so they run from dist. */
export const COLLECTION = `${ROOT}dist/src/schematics/collection.json`;

/**
 * The global setup compiled dist with tsc; this copies the collection's JSON and templates next
 * to it, as `npm run build` does.
 */
export function copySchematicAssets(): void {
  execFileSync(process.execPath, ['src/schematics/copy-assets.mjs'], { cwd: ROOT });
}

export function runner(): SchematicTestRunner {
  return new SchematicTestRunner('nestjs-ws-routes', COLLECTION);
}

const APP_MODULE = `import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [],
})
export class AppModule {}
`;

/** A Nest 12 project as `nest new` lays it out: ESM by default, or CommonJS. */
export function nestProject(type: 'esm' | 'cjs' = 'esm', sourceRoot = 'src'): Tree {
  const tree = Tree.empty();
  tree.create(
    'package.json',
    JSON.stringify({ name: 'app', ...(type === 'esm' ? { type: 'module' } : {}) }),
  );
  tree.create('nest-cli.json', JSON.stringify({ collection: '@nestjs/schematics', sourceRoot }));
  tree.create('tsconfig.json', '{}');
  tree.create(`${sourceRoot}/app.module.ts`, APP_MODULE);
  return tree;
}

/** The text of a generated file, failing clearly when it is missing. */
export function read(tree: UnitTestTree, path: string): string {
  const content = tree.readContent(path);
  if (!content) throw new Error(`${path} was not generated; files: ${tree.files.join(', ')}`);
  return content;
}

/** Runs the `handler` schematic on a fresh (or the given) project. */
export function generateHandler(
  options: Record<string, unknown>,
  project: Tree = nestProject(),
): Promise<UnitTestTree> {
  return runner().runSchematic('handler', options, project);
}

/** The generated files under a folder, sorted. */
export function filesUnder(tree: UnitTestTree, folder: string): string[] {
  return tree.files.filter((file) => file.startsWith(folder)).toSorted();
}
