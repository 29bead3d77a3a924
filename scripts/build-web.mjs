// Builds the dashboard (web/) into dist/web/: index.html, app.js (preact + htm, bundled and minified by esbuild),
// app.css. No CDN and nothing inline, so the page works offline under `Content-Security-Policy: default-src 'self'`.
// Run by `npm run build` (and so by `npm install`); `--watch` rebuilds on change while developing.
import { build, context } from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const watch = process.argv.includes('--watch');

const options = {
  entryPoints: { app: join(root, 'web', 'src', 'main.ts'), 'app-style': join(root, 'web', 'app.css') },
  outdir: out,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
  // The core is browser-safe (tsconfig.core.json proves it); nothing from node:* may reach the bundle.
  external: [],
};

async function finish() {
  await mkdir(out, { recursive: true });
  await copyFile(join(root, 'web', 'index.html'), join(out, 'index.html'));
  await copyFile(join(root, 'web', 'favicon.svg'), join(out, 'favicon.svg'));
  // esbuild names CSS entry points after the entry; the page links /app.css.
  const css = await readFile(join(out, 'app-style.css'));
  await writeFile(join(out, 'app.css'), css);
  await rm(join(out, 'app-style.css'), { force: true });
  // Pre-compressed siblings: `emblem serve` sends app.js.br / .gz when the browser accepts them, so the first
  // load transfers the compressed size without compressing on every request.
  const sizes = {};
  for (const f of ['index.html', 'app.js', 'app.css', 'favicon.svg']) {
    const bytes = await readFile(join(out, f));
    const gz = gzipSync(bytes, { level: 9 });
    const br = brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } });
    if (f !== 'index.html') {
      await writeFile(join(out, `${f}.gz`), gz);
      await writeFile(join(out, `${f}.br`), br);
    }
    sizes[f] = { bytes: bytes.length, gzip: gz.length, brotli: br.length };
  }
  const total = Object.values(sizes).reduce((s, x) => s + x.gzip, 0);
  await writeFile(join(out, 'sizes.json'), `${JSON.stringify({ files: sizes, gzipTotal: total }, null, 2)}\n`);
  if (!process.argv.includes('--quiet')) process.stderr.write(`dist/web: ${Object.entries(sizes).map(([f, s]) => `${f} ${s.bytes} B (${s.gzip} B gzip)`).join(', ')}; first load ${total} B gzip\n`);
}

if (watch) {
  const ctx = await context({ ...options, plugins: [{ name: 'finish', setup: (b) => b.onEnd(() => finish()) }] });
  await ctx.watch();
} else {
  await build(options);
  await finish();
}
