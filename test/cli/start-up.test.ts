// Issue 14 target 2: the CLI loads only what a command runs. The built CLI (dist/cli/main.js) runs the esbuild bundle
// (dist/cli-bundle/, scripts/build-cli.mjs) unless EMBLEM_NO_CLI_BUNDLE=1; both must answer the same. No timing is
// asserted here (the bench's start-up row measures it): these tests check which modules load, and the outputs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { CLI, runCli, SHARED } from '../helpers/cli.js';

const LIVE_SET = `${SHARED}interop/dns/emblem.felixlinker.de.txt`;
/** Inside the live set's validity (the interop tests verify it at the same instant). */
const AT = '2026-06-17T00:10:00Z';
const VERIFY = ['verify', '--skip-commitment-check', '--at', AT, LIVE_SET];

/** A module loader hook that prints every module URL node loads, on standard error, one per line. */
const HOOK = `data:text/javascript,${encodeURIComponent(
  `export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`,
)}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(HOOK)});`)}`;

async function loadedModules(args: string[], env: Record<string, string | undefined> = {}): Promise<string[]> {
  // These tests are about the bundle and lazy registration themselves: run with both on even when the suite runs
  // with every fast path off (.ci/run's third run), whose switches would otherwise reach the child.
  const run = await runCli(args, { env: { EMBLEM_NO_CLI_BUNDLE: undefined, EMBLEM_NO_LAZY_COMMANDS: undefined, ...env, NODE_OPTIONS: `--import=${REGISTER}` } });
  assert.equal(run.code, 0, run.stderr);
  return run.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length));
}

/** Packages a verify must never load: they serve other commands (scan, serve, org, authority, CT). */
const NOT_FOR_VERIFY = ['bullmq', 'ioredis', '@peculiar/x509', 'pkijs', 'asn1js', 'fastify', '@fastify', 'prom-client', 'yaml', 'better-sqlite3', 'pg', 'dns-packet', 'acme-client', 'jose', 'pkcs11js'];

test('each entry of the command list registers exactly the command it is named after (the CLI registers only that one)', async () => {
  for (const { name, load } of COMMANDS) {
    const program = new Command();
    (await load())(program);
    assert.deepEqual(program.commands.map((c) => c.name()), [name]);
  }
});

describe('start-up', { skip: !existsSync(LIVE_SET) && 'the live interop sets are not checked out next to the repository' }, () => {
  test('the bundle is built, and verify --skip-commitment-check loads it and none of the other commands\' packages', async () => {
    assert.ok(existsSync(new URL('../../dist/cli-bundle/program.js', `file://${CLI}`)), 'npm run build writes dist/cli-bundle/program.js');
    const urls = await loadedModules(VERIFY);
    assert.ok(urls.some((u) => u.endsWith('/dist/cli-bundle/program.js')), 'the bundle runs');
    const ours = urls.filter((u) => u.includes('/dist/') && !u.includes('/node_modules/'));
    assert.ok(ours.every((u) => u.includes('/dist/cli-bundle/') || u.endsWith('/dist/cli/main.js')), `modules from outside the bundle: ${ours.join(' ')}`);
    // ~35 today (the entry and the chunks a verify shares with other commands); unbundled it was ~100 files.
    assert.ok(urls.length <= 60, `${urls.length} modules loaded`);
    for (const pkg of NOT_FOR_VERIFY) {
      assert.ok(!urls.some((u) => u.includes(`/node_modules/${pkg}/`)), `${pkg} was loaded by verify`);
    }
  });

  test('--help loads no package but commander\'s (bundled) and nothing of the CT, DNS or scan stacks', async () => {
    const urls = await loadedModules(['--help']);
    assert.deepEqual(urls.filter((u) => u.includes('/node_modules/')), []);
    assert.ok(!urls.some((u) => u === 'node:zlib' || u === 'node:dgram' || u === 'node:net'), urls.join(' '));
  });

  test('the bundle and the unbundled modules (EMBLEM_NO_CLI_BUNDLE=1) answer the same', async () => {
    // Every command's --help: scripts/cli-help-snapshot.mjs (run it with and without EMBLEM_NO_CLI_BUNDLE=1).
    for (const args of [['--help'], ['help', 'sign', 'emblem'], [...VERIFY, '--json'], ['nosuch']]) {
      const [bundled, unbundled, allRegistered] = await Promise.all([
        runCli(args, { env: { EMBLEM_NO_CLI_BUNDLE: undefined, EMBLEM_NO_LAZY_COMMANDS: undefined } }),
        runCli(args, { env: { EMBLEM_NO_CLI_BUNDLE: '1', EMBLEM_NO_LAZY_COMMANDS: undefined } }),
        runCli(args, { env: { EMBLEM_NO_CLI_BUNDLE: undefined, EMBLEM_NO_LAZY_COMMANDS: '1' } }),
      ]);
      assert.deepEqual(bundled, unbundled, `emblem ${args.join(' ')}: bundled vs EMBLEM_NO_CLI_BUNDLE=1`);
      assert.deepEqual(bundled, allRegistered, `emblem ${args.join(' ')}: one command registered vs EMBLEM_NO_LAZY_COMMANDS=1`);
    }
  });
});
