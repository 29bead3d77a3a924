#!/usr/bin/env node
// The emblem command. The program itself is ./program.ts; `npm run build` also bundles it with esbuild
// (scripts/build-cli.mjs) into dist/cli-bundle/, where each command's modules are a few chunks loaded only when that
// command runs: start-up then reads a few files instead of a hundred (docs/performance.md, "CLI start-up").
// EMBLEM_NO_CLI_BUNDLE=1 runs the modules as tsc compiled them instead; so does a tree without the bundle (tsx).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../cli-bundle/program.js', import.meta.url);
if (process.env.EMBLEM_NO_CLI_BUNDLE !== '1' && import.meta.url.endsWith('.js') && existsSync(fileURLToPath(bundle))) {
  await import(bundle.href);
} else {
  await import('./program.js');
}
