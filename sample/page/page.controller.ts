import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The chat page: three static files streamed from `sample/public/`, no build step and no
 * framework. `tsc` compiles this file to `dist/sample/page/`, while the files stay in
 * `sample/public/`, so the folder is looked up from both places.
 */
const PUBLIC_DIR = [
  new URL('../public/', import.meta.url), // running from sample/ (the tests, ts loaders)
  new URL('../../../sample/public/', import.meta.url), // running from dist/sample/ (npm start)
]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(`${dir}index.html`));

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
