import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
 * A fresh Nest 12 project, made by the real `nest new` (ESM, vitest) and installed from the npm
 * registry as a user would (`--prefer-offline`: what `npm ci` of this repository cached is reused),
 * with nestjs-ws-routes from the tarball `npm pack` made.
 */
async function createProject(folder: string, tarball: string): Promise<string> {
  const cli = join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
  await sh(folder, process.execPath, [
    cli,
    'new',
    'app',
    '--skip-install',
    '--skip-git',
    '--package-manager',
    'npm',
  ]);
  const app = join(folder, 'app');
  await sh(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  return app;
}

describe('schematics: the real Nest CLI in a fresh Nest 12 project', () => {
  let folder: string;
  let app: string;
  const nest = (...args: string[]) =>
    sh(app, process.execPath, [join(app, 'node_modules/@nestjs/cli/bin/nest.js'), ...args]);

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
    expect(appModule).toContain('controllers: [AppController, ChatController]');

    // As the project's default collection, built-in generators stay available.
    const cliConfig = JSON.parse(await readFile(join(app, 'nest-cli.json'), 'utf8'));
    await writeFile(
      join(app, 'nest-cli.json'),
      JSON.stringify({ ...cliConfig, collection: 'nestjs-ws-routes' }),
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
    // app.controller.spec.ts (1, from nest new), chat.handler.spec.ts (2), users.service.spec.ts (1)
    expect(specRun).toMatch(/Tests\s+4 passed/);
  }, 180_000);
});
