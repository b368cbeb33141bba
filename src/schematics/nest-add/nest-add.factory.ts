import { join, normalize } from '@angular-devkit/core';
import { SchematicsException, type Rule, type Tree } from '@angular-devkit/schematics';
import { MetadataManager } from '@nestjs/schematics';
import type { NestAddOptions } from './nest-add.options.js';

const IMPORT_LINE = "import { WsModule } from 'nestjs-ws-routes';";

/** `nest add nestjs-ws-routes`: adds `WsModule.forRoot()` to the root module's imports. */
export function main(options: NestAddOptions): Rule {
  return (tree: Tree) => {
    const modulePath = join(
      normalize(options.sourceRoot ?? 'src'),
      options.module ?? 'app.module.ts',
    );
    if (!tree.exists(modulePath)) {
      throw new SchematicsException(
        `nestjs-ws-routes: no root module at ${modulePath}; pass --module=<file relative to the source root>`,
      );
    }
    const content = tree.readText(modulePath);
    if (/\bWsModule\b/.test(content)) return tree; // already added
    const withMetadata = new MetadataManager(content).insert('imports', 'WsModule.forRoot()');
    if (withMetadata === undefined) {
      throw new SchematicsException(`nestjs-ws-routes: no @Module() decorator in ${modulePath}`);
    }
    const lines = withMetadata.split('\n');
    // After the last import statement (the line that ends it, for multi-line imports).
    const lastImport = lines.findLastIndex((line) => /\bfrom\s+['"][^'"]+['"];?\s*$/.test(line));
    lines.splice(lastImport + 1, 0, IMPORT_LINE);
    tree.overwrite(modulePath, lines.join('\n'));
    return tree;
  };
}
