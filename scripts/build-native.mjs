// npm install hook: compiles native/udp_batch.c (batched UDP for `emblem dns serve`, Linux only) with node-gyp.
// Optional by design: without a compiler, or on another system, the server uses node:dgram and answers the same,
// only slower. So a failed build warns and exits 0 instead of failing the whole install.
import { spawnSync } from 'node:child_process';

if (process.platform !== 'linux') {
  console.error('emblem: native UDP batching is Linux-only; emblem dns serve will use node:dgram');
  process.exit(0);
}
// npm tells lifecycle scripts where its bundled node-gyp is; outside npm, try one on PATH.
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  : spawnSync('node-gyp', ['rebuild'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', shell: true });
if (r.status !== 0) {
  const why = (r.stderr ?? String(r.error ?? '')).trim().split('\n').slice(-3).join(' / ');
  console.error(`emblem: native UDP batching not built (${why}); emblem dns serve will use node:dgram (fewer queries/s). ` +
    'To build it: install make and a C compiler, then run npm rebuild emblem (or node scripts/build-native.mjs).');
}
process.exit(0);
