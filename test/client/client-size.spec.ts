import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

/**
 * The built client (dist/src/client, from the global setup's build) bundled for a browser, as an
 * app's bundler would: nothing of Nest, `ws` or Node may come along, and it stays small.
 */
describe('the client bundle', () => {
  it('bundles for the browser alone (no Nest, no Node built-in) in under 4 KB minified and gzipped', async () => {
    const result = await build({
      entryPoints: [`${ROOT}/dist/src/client/index.js`],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.every((input) => input.startsWith('dist/src/'))).toBe(true);
    expect(inputs.filter((input) => !input.startsWith('dist/src/client/')).toSorted()).toEqual([
      'dist/src/close-codes.js',
      'dist/src/resume.wire.js',
    ]);
    const gzipped = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
    expect(gzipped).toBeLessThan(4096);
  });
});
