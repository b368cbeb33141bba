import type { Path } from '@angular-devkit/core';

/** Options of the `handler` schematic, as the Nest CLI passes them (see schema.json). */
export interface HandlerOptions {
  name: string;
  path?: string | Path;
  sourceRoot?: string;
  language?: string;
  skipImport?: boolean;
  flat?: boolean;
  spec?: boolean;
  specFileSuffix?: string;
  format?: boolean;
}
