import { beforeAll, describe, expect, it } from 'vitest';
import {
  copySchematicAssets,
  filesUnder,
  generateHandler,
  nestProject,
  read,
  runner,
} from './support.js';

describe('schematics: handler', () => {
  beforeAll(copySchematicAssets);

  it('generates the handler, its spec and a controller in src/<name>, declared in the app module', async () => {
    const tree = await generateHandler({ name: 'chat' });
    expect(filesUnder(tree, '/src/chat/')).toEqual([
      '/src/chat/chat.controller.ts',
      '/src/chat/chat.handler.spec.ts',
      '/src/chat/chat.handler.ts',
    ]);
    const handler = read(tree, '/src/chat/chat.handler.ts');
    expect(handler).toContain('export class ChatHandler extends WebSocketHandler {');
    for (const hook of ['onOpen', 'onMessage', 'onClose', 'onError', 'onPong', 'onDrain']) {
      expect(handler).toMatch(new RegExp(`/\\*\\*[^\\n]+\\*/\\n  override ${hook}\\(`));
    }
    const controller = read(tree, '/src/chat/chat.controller.ts');
    expect(controller).toContain("@WebSocketRoute('chat', ChatHandler)");
    expect(controller).toContain("import { ChatHandler } from './chat.handler.js';");
    const spec = read(tree, '/src/chat/chat.handler.spec.ts');
    expect(spec).toContain("import { connectWebSocket } from 'nestjs-ws-routes/testing';");
    expect(spec).toContain("import { ChatController } from './chat.controller.js';");
    expect(spec).toContain("connectWebSocket(app, '/chat')");
    const appModule = read(tree, '/src/app.module.ts');
    expect(appModule).toContain("import { ChatController } from './chat/chat.controller.js';");
    expect(appModule).toMatch(/controllers: \[AppController, ChatController\]/);
  });

  it('is also reachable as wsh, and dasherizes the name', async () => {
    const tree = await runner().runSchematic('wsh', { name: 'LiveFeed' }, nestProject());
    expect(read(tree, '/src/live-feed/live-feed.controller.ts')).toContain(
      "@WebSocketRoute('live-feed', LiveFeedHandler)",
    );
    expect(read(tree, '/src/live-feed/live-feed.handler.ts')).toContain('class LiveFeedHandler');
  });

  it('writes imports without .js in a CommonJS project', async () => {
    const tree = await generateHandler({ name: 'chat' }, nestProject('cjs'));
    expect(read(tree, '/src/chat/chat.controller.ts')).toContain("from './chat.handler';");
    expect(read(tree, '/src/chat/chat.handler.spec.ts')).toContain("from './chat.controller';");
    expect(read(tree, '/src/app.module.ts')).toContain("from './chat/chat.controller';");
  });

  it('--flat puts the files in the source root', async () => {
    const tree = await generateHandler({ name: 'chat', flat: true });
    expect(tree.exists('/src/chat.handler.ts')).toBe(true);
    expect(tree.exists('/src/chat.handler.spec.ts')).toBe(true);
    expect(tree.exists('/src/chat.controller.ts')).toBe(true);
    expect(read(tree, '/src/app.module.ts')).toContain("from './chat.controller.js';");
  });

  it('--no-spec leaves the spec out; --spec-file-suffix renames it', async () => {
    const noSpec = await generateHandler({ name: 'chat', spec: false });
    expect(filesUnder(noSpec, '/src/chat/')).toEqual([
      '/src/chat/chat.controller.ts',
      '/src/chat/chat.handler.ts',
    ]);
    const suffixed = await generateHandler({ name: 'chat', specFileSuffix: 'test' });
    expect(suffixed.exists('/src/chat/chat.handler.test.ts')).toBe(true);
    expect(suffixed.exists('/src/chat/chat.handler.spec.ts')).toBe(false);
  });

  it('--path generates under it and declares the controller in the nearest module', async () => {
    const project = nestProject();
    project.create(
      'src/realtime/realtime.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class RealtimeModule {}\n",
    );
    const tree = await generateHandler({ name: 'chat', path: 'realtime' }, project);
    expect(tree.exists('/src/realtime/chat/chat.handler.ts')).toBe(true);
    const realtime = read(tree, '/src/realtime/realtime.module.ts');
    expect(realtime).toContain("import { ChatController } from './chat/chat.controller.js';");
    expect(realtime).toMatch(/controllers: \[ChatController\]/);
    expect(read(tree, '/src/app.module.ts')).not.toContain('ChatController');
  });

  it('--skip-import leaves every module untouched', async () => {
    const project = nestProject();
    const before = project.readText('src/app.module.ts');
    const tree = await generateHandler({ name: 'chat', skipImport: true }, project);
    expect(tree.exists('/src/chat/chat.controller.ts')).toBe(true);
    expect(read(tree, '/src/app.module.ts')).toBe(before);
  });

  it('honours the sourceRoot the Nest CLI passes', async () => {
    const tree = await generateHandler(
      { name: 'chat', sourceRoot: 'apps/api/src' },
      nestProject('esm', 'apps/api/src'),
    );
    expect(tree.exists('/apps/api/src/chat/chat.handler.ts')).toBe(true);
    expect(read(tree, '/apps/api/src/app.module.ts')).toContain('ChatController');
  });

  it("keeps @nestjs/schematics' generators available through the collection", async () => {
    const tree = await runner().runSchematic('service', { name: 'users' }, nestProject());
    expect(tree.exists('/src/users/users.service.ts')).toBe(true);
  });
});

describe('schematics: nest-add', () => {
  beforeAll(copySchematicAssets);

  it('adds WsModule.forRoot() to the root module imports, once', async () => {
    const tree = await runner().runSchematic('nest-add', {}, nestProject());
    const appModule = read(tree, '/src/app.module.ts');
    expect(appModule).toContain("import { WsModule } from 'nestjs-ws-routes';");
    expect(appModule).toMatch(/imports: \[WsModule\.forRoot\(\)\]/);
    const again = await runner().runSchematic('nest-add', {}, tree);
    expect(read(again, '/src/app.module.ts')).toBe(appModule);
  });

  it('is also reachable as ng-add, and uses the given source root and module', async () => {
    const project = nestProject('esm', 'server');
    project.create(
      'server/root.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class RootModule {}\n",
    );
    const tree = await runner().runSchematic(
      'ng-add',
      { sourceRoot: 'server', module: 'root.module.ts' },
      project,
    );
    expect(read(tree, '/server/root.module.ts')).toMatch(/imports: \[WsModule\.forRoot\(\)\]/);
  });

  it('fails with the path it looked at when there is no root module', async () => {
    await expect(
      runner().runSchematic('nest-add', { sourceRoot: 'nowhere' }, nestProject()),
    ).rejects.toThrow('nestjs-ws-routes: no root module at nowhere/app.module.ts');
  });
});
