/**
 * The package as another project gets it: `npm pack` (which runs `prepare`, the build), `npm install` of the tarball
 * into a fresh project in a temporary folder (which runs the `install` script, the native build), then the README's
 * "Use as a library" example run with plain `node` and type-checked with `tsc` against the installed declarations
 * (module resolution node16-style, so package.json `exports` and their `types` conditions are what resolves).
 *
 * The pack runs in a copy of the project (its own dist/), so the build does not rewrite the dist/ that other test
 * files run concurrently. Dependencies come from the npm cache that `npm ci` filled (--prefer-offline): no network
 * beyond the npm registry, and normally none at all.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The example exactly as README.md shows it, between the library-example markers. */
export function readmeExample(readme: string): string {
  const m = /<!-- library-example:start -->\n```js\n([\s\S]*?)```\n<!-- library-example:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no library example between <!-- library-example:start/end --> markers');
  return m[1]!;
}

/** The environment without what an enclosing `npm test` sets (npm_config_*, npm_lifecycle_*), which would steer nested npm calls. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): void {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Files and folders of the project that the pack needs; tests, docs, benches and build output stay behind. */
const SKIP_TOP = new Set(['node_modules', 'dist', 'build', '.git', 'test', 'bench', 'docs', '.ci']);

describe('the packed package in a fresh project', { timeout: 720_000 }, () => {
  let work: string;
  let consumer: string;
  const timings: Record<string, number> = {};

  const timed = <T>(name: string, f: () => T): T => {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'emblem-package-'));
    const copy = join(work, 'project');
    cpSync(ROOT, copy, { recursive: true, filter: (src) => !SKIP_TOP.has(src.slice(ROOT.length + 1).split('/')[0]!) });
    // The build needs the compiler and the declarations of the dependencies: the project's own, not a download.
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const pack = timed('npm pack', () => run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], copy, 180_000));
    ok(pack, 'npm pack');
    const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    assert.equal(tarballs.length, 1, `npm pack left ${tarballs.join(', ') || 'no tarball'}`);

    consumer = join(work, 'consumer');
    mkdirSync(consumer);
    // Like a real TypeScript project on Node 20, the consumer pins its own @types/node (the project's version, already
    // in the npm cache), which also satisfies the "*" that the package's @types/dns-packet asks for.
    const typesNode = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
    const manifest = { name: 'emblem-consumer', private: true, type: 'module', devDependencies: { '@types/node': typesNode } };
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // The install compiles the native dependencies (better-sqlite3, pkcs11js) with node-gyp: minutes on two busy cores.
    const install = timed('npm install', () =>
      run('npm', ['install', `../${tarballs[0]}`, '--prefer-offline', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], consumer, 540_000),
    );
    ok(install, 'npm install of the tarball');
  });

  after(() => {
    process.stderr.write(`# package test timings (ms): ${JSON.stringify(timings)}\n`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs what the package lists, with declarations, and nothing from the test tree', () => {
    const installed = join(consumer, 'node_modules/emblem');
    for (const f of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/cli/main.js']) {
      assert.ok(existsSync(join(installed, f)), `${f} is missing from the installed package`);
    }
    assert.ok(!existsSync(join(installed, 'test')), 'the test tree was packed');
    assert.ok(!existsSync(join(installed, 'src')), 'the sources were packed');
  });

  it('runs the README library example with plain node', () => {
    const example = readmeExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    writeFileSync(join(consumer, 'example.mjs'), example);
    const r = timed('node example.mjs', () => run(process.execPath, ['example.mjs'], consumer, 60_000));
    ok(r, 'node example.mjs');
    assert.equal(r.stdout.trim(), 'ORGANIZATIONAL-TRUSTED hospital.example');
  });

  it('type-checks the README example with tsc against the package exports (node16 resolution)', () => {
    const example = readmeExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    writeFileSync(join(consumer, 'example.mjs'), example);
    // A misuse that only the declarations catch: proves the types resolve through `exports` and are not `any`.
    writeFileSync(
      join(consumer, 'misuse.ts'),
      "import { signEmblem, verifyTokenSet } from 'emblem';\n" +
        "import type { VerificationReport } from 'emblem';\n" +
        "import { isFailure } from 'emblem/core';\n" +
        "export const r: Promise<VerificationReport> = verifyTokenSet('', { at: new Date(0) });\n" +
        "export const s: Promise<number> = signEmblem({ assets: 'x', notBefore: new Date(0), expires: new Date(1) }, {});\n" +
        'export const f: string = isFailure;\n',
    );
    const config = (files: string[]) => ({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        strict: true,
        allowJs: true,
        checkJs: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files,
    });
    // One compiler run for both files (each run loads every declaration again): the example must check cleanly,
    // the misuse must fail on exactly its three wrong lines.
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(config(['example.mjs', 'misuse.ts'])));
    const r = timed('tsc', () => run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], consumer, 180_000));
    const errors = r.stdout + r.stderr;
    const located = errors.split('\n').filter((l) => /^\S+\(\d+,\d+\): error TS\d+/.test(l));
    assert.deepEqual(located.filter((l) => !l.startsWith('misuse.ts(')), [], `tsc found errors outside the deliberate misuse:\n${errors}`);
    assert.deepEqual([...new Set(located.map((l) => Number(/^misuse\.ts\((\d+),/.exec(l)![1])))].sort(), [4, 5, 6], errors);
    assert.match(errors, /misuse\.ts\(4,\d+\)[^\n]*\n[^\n]*'commitments' is missing/, errors);
    assert.doesNotMatch(errors, /Cannot find module|TS7016|node_modules\/emblem/, errors);
  });

  it('resolves emblem/core in the browser-safe form, and importing emblem loads no heavy adapter', () => {
    // A resolve hook in the loader thread reports every module URL; the main thread prints them after the import.
    writeFileSync(
      join(consumer, 'trace-hooks.mjs'),
      'let port;\nexport function initialize(data) { port = data.port; }\n' +
        'export async function resolve(specifier, context, next) { const r = await next(specifier, context); port.postMessage(r.url); return r; }\n',
    );
    writeFileSync(
      join(consumer, 'trace.mjs'),
      "import { register } from 'node:module';\nimport { MessageChannel } from 'node:worker_threads';\n" +
        'const { port1, port2 } = new MessageChannel();\nconst urls = [];\nport1.on(\'message\', (u) => urls.push(u));\nport1.unref();\n' +
        "register('./trace-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });\n" +
        "const api = await import('emblem');\nconst core = await import('emblem/core');\n" +
        'await new Promise((r) => setTimeout(r, 200));\n' +
        "console.log(JSON.stringify({ api: Object.keys(api).sort(), core: typeof core.verifyMaterial, urls: urls.filter((u) => u.includes('node_modules')) }));\n",
    );
    const r = run(process.execPath, ['trace.mjs'], consumer, 60_000);
    ok(r, 'node trace.mjs');
    const out = JSON.parse(r.stdout) as { api: string[]; core: string; urls: string[] };
    for (const name of ['verifyTokenSet', 'checkName', 'scan', 'generateKey', 'signEmblem', 'signEndorsement', 'createCommitmentChecker', 'logEntriesFromChain', 'EmblemError', 'isFailure']) {
      assert.ok(out.api.includes(name), `emblem does not export ${name}`);
    }
    assert.equal(out.core, 'function');
    assert.ok(out.urls.some((u) => u.includes('/node_modules/emblem/dist/index.js')), out.urls.join('\n'));
    const heavy = out.urls.filter((u) => /\/node_modules\/(bullmq|ioredis|@peculiar|pkijs|asn1js|jose|commander|dns-packet)\//.test(u) || /emblem\/dist\/(ct|dns|validator|cli)\//.test(u));
    assert.deepEqual(heavy, [], 'importing emblem loaded adapters it only needs on first use');
  });
});
