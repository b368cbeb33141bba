import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The chat page: three static files streamed from `sample/public/`, no build step and no
 * framework, and the library's browser client (`nestjs-ws-routes/client`) as `npm run build`
 * emits it, under `/lib/`. `tsc` compiles this file to `dist/sample/page/`, while the files stay
 * in `sample/public/`, so the folder is looked up from both places.
 */
const PUBLIC_DIR = [
  new URL('../public/', import.meta.url), // running from sample/ (the tests, ts loaders)
  new URL('../../../sample/public/', import.meta.url), // running from dist/sample/ (npm start)
]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(`${dir}index.html`));

/** dist/src/ of the build; the client's modules import each other relatively, so /lib/ mirrors it. */
const LIB_DIR = [
  new URL('../../../dist/src/', import.meta.url), // running from sample/
  new URL('../../src/', import.meta.url), // running from dist/sample/
]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(`${dir}client/index.js`));

/** The modules of the client's import graph, the only files served from `LIB_DIR`. */
const LIB_FILES = new Set(
  LIB_DIR
    ? [
        ...readdirSync(`${LIB_DIR}client`)
          .filter((file) => file.endsWith('.js'))
          .map((file) => `client/${file}`),
        'close-codes.js',
        'resume.wire.js',
      ]
    : [],
);

@Controller()
export class PageController {
  @Get()
  @Header('Cache-Control', 'no-cache')
  index(): StreamableFile {
    return publicFile('index.html', 'text/html; charset=utf-8');
  }

  @Get('app.js')
  @Header('Cache-Control', 'no-cache')
  script(): StreamableFile {
    return publicFile('app.js', 'text/javascript; charset=utf-8');
  }

  /** The client, `/lib/client/index.js`, and the modules it imports (`/lib/close-codes.js`, …). */
  @Get('lib/client/:file')
  @Header('Cache-Control', 'no-cache')
  client(@Param('file') file: string): StreamableFile {
    return libFile(`client/${file}`);
  }

  @Get('lib/:file')
  @Header('Cache-Control', 'no-cache')
  lib(@Param('file') file: string): StreamableFile {
    return libFile(file);
  }

  @Get('style.css')
  @Header('Cache-Control', 'no-cache')
  style(): StreamableFile {
    return publicFile('style.css', 'text/css; charset=utf-8');
  }
}

function publicFile(name: string, type: string): StreamableFile {
  if (!PUBLIC_DIR) throw new Error('sample/public/ not found next to the sample');
  return new StreamableFile(createReadStream(PUBLIC_DIR + name), { type });
}

function libFile(name: string): StreamableFile {
  if (!LIB_DIR || !LIB_FILES.has(name)) throw new NotFoundException(`no module /lib/${name}`);
  return new StreamableFile(createReadStream(LIB_DIR + name), {
    type: 'text/javascript; charset=utf-8',
  });
}
