import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySchematicAssets, ROOT } from './support.js';

const run = promisify(execFile);

/** Runs a command in `cwd` and returns its output (uncoloured); fails with it when it fails. */
async function sh(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout: 120_000 });
    return stripVTControlCharacters(stdout + stderr);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}

/**
 * A minimal Nest 12 project as `nest new` makes it (ESM, vitest), written by hand because
 * `nest new` installs from the network. Its dependencies are links to this repository's installed
 * packages; nestjs-ws-routes itself is the tarball `npm pack` made.
 */
async function createProject(folder: string, tarball: string): Promise<string> {
  const app = join(folder, 'app');
  await mkdir(join(app, 'src'), { recursive: true });
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
    'nest-cli.json': JSON.stringify({ collection: '@nestjs/schematics', sourceRoot: 'src' }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
        target: 'ES2023',
        outDir: './dist',
        rootDir: '.',
        skipLibCheck: true,
        strict: true,
        strictPropertyInitialization: false,
        types: ['vitest/globals', 'node'],
      },
    }),
    'vitest.config.ts': `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { globals: true, root: './', include: ['**/*.spec.ts'] } });
`,
    'src/app.module.ts': `import { Module } from '@nestjs/common';

@Module({
  imports: [],
  controllers: [],
  providers: [],
})
export class AppModule {}
`,
    'src/main.ts': `import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
await app.listen(process.env.PORT ?? 3000);
`,
  };
  for (const [path, content] of Object.entries(files)) await writeFile(join(app, path), content);
  const modules = join(app, 'node_modules');
  await mkdir(modules);
  const installed = join(ROOT, 'node_modules');
  for (const entry of await readdir(installed)) {
    if (entry !== 'nestjs-ws-routes' && !entry.startsWith('.package-lock')) {
      await symlink(join(installed, entry), join(modules, entry));
    }
  }
  const packageDir = join(modules, 'nestjs-ws-routes');
  await mkdir(packageDir);
  await sh(app, 'tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
  return app;
}

describe('schematics: the real Nest CLI in a fresh Nest 12 project', () => {
  let folder: string;
  let app: string;
  // The CLI resolves a project's default collection from where @angular-devkit/schematics is
  // installed: keeping the links' paths makes that the project's node_modules, as in a real install.
  const nest = (...args: string[]) =>
    sh(app, process.execPath, [
      '--preserve-symlinks',
      '--preserve-symlinks-main',
      join(app, 'node_modules/@nestjs/cli/bin/nest.js'),
      ...args,
    ]);

  beforeAll(async () => {
    copySchematicAssets(); // dist was compiled by the global setup: this completes `npm run build`
    folder = await mkdtemp(join(tmpdir(), 'nestjs-ws-routes-cli-'));
    const packed = await sh(ROOT, 'npm', ['pack', '--silent', '--pack-destination', folder]);
    app = await createProject(folder, join(folder, packed.trim().split('\n').pop()!));
  }, 120_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('nest g -c nestjs-ws-routes handler chat: the project compiles and the generated spec passes', async () => {
    const dryRun = await nest('g', '-c', 'nestjs-ws-routes', 'wsh', 'news', '--dry-run');
    expect(dryRun).toContain('CREATE src/news/news.handler.ts');
    expect(existsSync(join(app, 'src/news'))).toBe(false);

    const output = await nest('g', '-c', 'nestjs-ws-routes', 'handler', 'chat');
    expect(output).toContain('CREATE src/chat/chat.handler.ts');
    expect(output).toContain('CREATE src/chat/chat.handler.spec.ts');
    expect(output).toContain('CREATE src/chat/chat.controller.ts');
    expect(output).toContain('UPDATE src/app.module.ts');
    // What `nest add nestjs-ws-routes` runs once the package is installed.
    await nest('g', '-c', 'nestjs-ws-routes', 'nest-add');
    const appModule = await readFile(join(app, 'src/app.module.ts'), 'utf8');
    expect(appModule).toContain('imports: [WsModule.forRoot()]');
    expect(appModule).toContain('controllers: [ChatController]');

    // As the project's default collection, built-in generators stay available.
    await writeFile(
      join(app, 'nest-cli.json'),
      JSON.stringify({ collection: 'nestjs-ws-routes', sourceRoot: 'src' }),
    );
    expect(await nest('g', 'service', 'users')).toContain('CREATE src/users/users.service.ts');
    const flat = await nest('g', 'wsh', 'feed', '--flat', '--no-spec');
    expect(flat).toContain('CREATE src/feed.handler.ts');
    expect(flat).not.toContain('feed.handler.spec.ts');

    await sh(app, process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '--noEmit']);
    const specRun = await sh(app, process.execPath, [
      join(app, 'node_modules/vitest/vitest.mjs'),
      'run',
    ]);
    expect(specRun).toMatch(/Tests\s+3 passed/); // chat.handler.spec.ts (2) and users.service.spec.ts
  }, 180_000);
});
