// Bundles the CLI (src/cli/program.ts) with esbuild into dist/cli-bundle/: program.js and the chunks it loads.
// dist/cli/main.js (tsc) runs it unless EMBLEM_NO_CLI_BUNDLE=1. Why: `emblem verify` used to read ~100 module files
// at start-up (ours, cborg's, commander's), and resolving, reading and compiling them one by one was most of its
// start-up time; the bundle reads a few dozen. Every `await import()` of a command action becomes its own chunk, so
// a command still loads only what it runs (docs/performance.md, "CLI start-up"). Run by `npm run build`.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli-bundle');

/**
 * The packages bundled in: small pure-JS ones on every command's path (start-up and verify). The rest stay external
 * and load from node_modules as before: native modules (better-sqlite3, pkcs11js), CommonJS packages that find files
 * next to themselves (__dirname: fastify's and pino's workers, BullMQ's Lua scripts), and the heavy ones a command
 * loads lazily anyway.
 */
const BUNDLED = new Set(['commander', 'cborg', '@noble/hashes', 'ipaddr.js']);

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const plugins = [
  {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || BUNDLED.has(packageName(args.path))) return undefined;
        return { path: args.path, external: true };
      });
    },
  },
  {
    // A module that finds files relative to itself (the native .node modules under build/, dist/web/, the verify
    // worker) keeps its own dist/ location: every output file sits in dist/cli-bundle/, two levels below the package
    // root like dist/<dir>/, so '../<dir>/<file>.js' from there is where tsc put the module.
    name: 'keep-module-url',
    setup(b) {
      b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const own = `../${relative(join(root, 'src'), args.path).replace(/\.ts$/, '.js').split('\\').join('/')}`;
        const contents = `const __emblemModuleUrl = new URL(${JSON.stringify(own)}, import.meta.url).href;\n${text.replaceAll('import.meta.url', '__emblemModuleUrl')}`;
        return { contents, loader: 'ts' };
      });
    },
  },
];

await rm(out, { recursive: true, force: true });
await build({
  entryPoints: { program: join(root, 'src', 'cli', 'program.ts') },
  outdir: out,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // commander and ipaddr.js are CommonJS: their require() of node built-ins needs a require in ESM output.
  banner: { js: "import { createRequire as __emblemCreateRequire } from 'node:module'; const require = __emblemCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  plugins,
});
