import { join, strings, type Path } from '@angular-devkit/core';
import {
  apply,
  branchAndMerge,
  chain,
  filter,
  mergeWith,
  move,
  noop,
  renameTemplateFiles,
  template,
  url,
  type Rule,
  type Tree,
} from '@angular-devkit/schematics';
import {
  formatFiles,
  isEsmProject,
  mergeSourceRoot,
  ModuleDeclarator,
  ModuleFinder,
  NameParser,
  normalizeToKebabOrSnakeCase,
} from '@nestjs/schematics';
import type { HandlerOptions } from './handler.options.js';

/**
 * `nest g -c nestjs-ws-routes handler chat`: `chat/chat.handler.ts`, `chat/chat.handler.spec.ts`
 * and `chat/chat.controller.ts` (with `@WebSocketRoute('chat', ChatHandler)`), the controller
 * declared in the nearest module, as `nest g controller` does.
 */
export function main(options: HandlerOptions): Rule {
  return (tree, context) => {
    const target = normalize(options);
    return branchAndMerge(
      chain([
        mergeSourceRoot(target),
        (host) => mergeWith(generate(target, isEsmProject(host)))(host, context),
        declareController(target),
        target.format ? formatFiles() : noop(),
      ]),
    )(tree, context);
  };
}

function normalize(source: HandlerOptions): HandlerOptions {
  const location = new NameParser().parse({ name: source.name, path: source.path });
  const name = normalizeToKebabOrSnakeCase(location.name);
  const path = normalizeToKebabOrSnakeCase(location.path);
  return {
    ...source,
    name,
    path: source.flat ? path : join(path as Path, name),
    specFileSuffix: normalizeToKebabOrSnakeCase(source.specFileSuffix || 'spec'),
  };
}

function generate(options: HandlerOptions, isEsm: boolean) {
  return apply(url('./files'), [
    options.spec === false
      ? filter((path) => !path.endsWith('.__specFileSuffix__.ts.template'))
      : noop(),
    template({ ...strings, ...options, importSuffix: isEsm ? '.js' : '' }),
    renameTemplateFiles(),
    move(options.path as string),
  ]);
}

function declareController(options: HandlerOptions): Rule {
  return (tree: Tree) => {
    if (options.skipImport) return tree;
    const module = new ModuleFinder(tree).find({ name: options.name, path: options.path as Path });
    if (!module) return tree;
    const content = tree.readText(module);
    const declared = new ModuleDeclarator().declare(content, {
      name: options.name,
      path: options.path as Path,
      module,
      metadata: 'controllers',
      type: 'controller',
      isEsm: isEsmProject(tree),
    } as Parameters<ModuleDeclarator['declare']>[1]);
    tree.overwrite(module, declared);
    return tree;
  };
}
