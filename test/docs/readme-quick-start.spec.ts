import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectWebSocket } from '../../src/testing/index.js';
import { ROOT } from '../support/process.js';

/** The README's quick start: its `app.module.ts` as written (but for the import of the library). */
async function quickStartModule(): Promise<unknown> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const [appModule, main] = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
  expect(appModule).toMatch(/^\/\/ app\.module\.ts\n/);
  expect(appModule).toContain('export class AppModule');
  expect(appModule).toContain("from 'nestjs-ws-routes';");
  expect(main).toMatch(/^\/\/ main\.ts\n/);
  expect(main).toContain("import { AppModule } from './app.module.js';");
  const file = join(ROOT, 'test/artifacts/readme-quick-start.ts');
  mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
  // The project's tsconfig is stricter than a user's (noImplicitOverride): no type check there.
  const source = appModule.replace("from 'nestjs-ws-routes';", "from '../../src/index.js';");
  writeFileSync(file, `// @ts-nocheck\n${source}`);
  return ((await import(file)) as { AppModule: unknown }).AppModule;
}

describe("the README's quick start", () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
  });

  it('serves the routes it declares, as the README says', async () => {
    const AppModule = (await quickStartModule()) as new () => object;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();

    const greet = await connectWebSocket(app, '/greet/ada');
    expect(await greet.nextMessage()).toBe('hello ada');
    greet.send('again');
    expect(await greet.nextMessage()).toBe('again');

    const echo = await connectWebSocket(app, '/greet/echo');
    echo.send(Buffer.from([1, 2, 3]));
    expect(await echo.nextMessage()).toEqual(Buffer.from([1, 2, 3]));
  });
});
