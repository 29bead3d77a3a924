/**
 * Issue 10, acceptance 1, through the CLI only, from an empty folder on loopback: a primary (Knot, then BIND) with a
 * TSIG key, Pebble validating DNS-01 against that primary, `emblem ct serve --roots <Pebble's root>` as the log.
 * `org init` -> `org cert` (challenges by RFC 2136 UPDATE, chain submitted to the local log) -> `org apply` ->
 * `emblem check` says protected, ORGANIZATIONAL-UNTRUSTED, commitment verified.
 *
 * Time: Pebble is a third-party peer and runs on the real clock (no faketime), so the certificate is valid from the
 * real "now". The tests never read the wall clock themselves: every `--at` is derived from the certificate's
 * notBefore as `org cert --json` reports it, so the flow verifies at a moment the certificate is valid, whatever the
 * clock of this process (also under `faketime -f +730d`).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { initSoftHsmToken, SOFTHSM_MODULE } from '../helpers/softhsm.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { tempDir } from '../dns/servers.js';
import { freePort, HAVE_PEBBLE, startCtServe, startPebble, type Pebble } from './pebble.js';
import { startBindPrimary, startKnotPrimary, startKnotZonefile, type Primary } from './primaries.js';

interface Loopback {
  work: string;
  primary: Primary;
  pebble: Pebble;
  ct: Awaited<ReturnType<typeof startCtServe>>;
  /** Pebble's root: the end of the binding chain (org init --ca-bundle, check --ca-bundle, ct serve --roots). */
  rootFile: string;
  /** Pebble's own HTTPS certificate (org cert --acme-ca). */
  acmeCaFile: string;
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

async function loopback(start: () => Promise<Primary>): Promise<Loopback> {
  const work = tempDir('emblem-org-cert-');
  const primary = await start();
  let pebble: Pebble | undefined;
  try {
    pebble = await startPebble(work.path, primary.port);
    const rootFile = join(work.path, 'pebble-root.pem');
    const acmeCaFile = join(work.path, 'pebble-minica.pem');
    writeFileSync(rootFile, pebble.rootPem);
    writeFileSync(acmeCaFile, pebble.caPem);
    const ct = await startCtServe(rootFile);
    const p = pebble;
    return {
      work: work.path,
      primary,
      pebble,
      ct,
      rootFile,
      acmeCaFile,
      // Unencrypted keys: EMBLEM_PASSPHRASE unset (never empty).
      env: { EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: undefined },
      async stop() {
        await ct.close();
        p.child.kill('SIGTERM');
        await primary.stop();
        work.remove();
      },
    };
  } catch (err) {
    pebble?.child.kill('SIGTERM');
    await primary.stop();
    work.remove();
    throw err;
  }
}

function dig(port: number, name: string, type: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

const emblem = (l: Loopback, args: string[]) => runCli(args, { env: l.env, timeoutMs: 90_000 });

/** The channel flags of `org init`: RFC 2136 with the primary's TSIG key unless given. */
const rfc2136 = (p: Primary) => ['--publish', `rfc2136://127.0.0.1:${p.port}/${p.zone}`, '--tsig-key', p.keyFile];

async function init(l: Loopback, dir: string, channel: string[] = rfc2136(l.primary), extra: string[] = []): Promise<void> {
  const { primary } = l;
  const r = await emblem(l, ['org', 'init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', `clinic.${primary.zone}`,
    ...channel, ...extra,
    '--ct-log-list', l.ct.logListUrl, '--ca-bundle', l.rootFile, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
}

interface CertJson {
  ok: boolean;
  names: string[];
  notBefore: string;
  notAfter: string;
  chain: string;
  log: string;
  logEntries: Array<{ ver: string; id: string }>;
  channels: string[];
}

async function cert(l: Loopback, dir: string): Promise<CertJson> {
  const r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', l.pebble.directoryUrl, '--acme-ca', l.acmeCaFile, '--json']);
  assert.equal(r.code, 0, `${r.stderr}${r.stdout}\npebble: ${l.pebble.stderr().slice(-2000)}`);
  return JSON.parse(r.stdout) as CertJson;
}

/** init -> cert -> apply -> check, all through the CLI. */
async function flow(l: Loopback, channel: string[] = rfc2136(l.primary), initExtra: string[] = []): Promise<void> {
  const { primary } = l;
  const dir = join(l.work, 'org');
  await init(l, dir, channel, initExtra);

  const c = await cert(l, dir);
  assert.equal(c.ok, true);
  assert.equal(c.names.length, 3, 'host, adem-configuration.host, kid.adem-configuration.host (era jws)');
  assert.deepEqual(c.channels, [channel[1]]);
  assert.deepEqual(c.logEntries.map((e) => e.ver).sort(), ['static', 'v1']);
  assert.ok(c.logEntries.every((e) => e.id === l.ct.logId), 'the entries are the local log\'s');
  // Stored where apply reads it (as set-binding does); the challenge records are gone from the primary again.
  const cfg = readFileSync(join(dir, 'emblem-org.yaml'), 'utf8');
  assert.match(cfg, new RegExp(`binding:\\s+chain: ${c.chain}\\s+log: ${c.log}`));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, c.log), 'utf8')), c.logEntries);
  for (const name of c.names) assert.equal(dig(primary.port, `_acme-challenge.${name}`, 'TXT').trim(), '', `challenge at ${name} removed`);

  // Every instant below is relative to the certificate, never to this process's clock.
  const t0 = Date.parse(c.notBefore) + 60_000;
  const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

  const applied = await emblem(l, ['org', 'apply', '--dir', dir, '--at', at(0), '--json']);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const result = JSON.parse(applied.stdout) as { ok: boolean; assets: Array<{ level: string }> };
  assert.equal(result.ok, true);
  assert.deepEqual(result.assets.map((a) => a.level), ['ORGANIZATIONAL-UNTRUSTED']);

  const check = await emblem(l, ['check', `clinic.${primary.zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', l.ct.logListUrl, '--ca-bundle', l.rootFile, '--at', at(5), '--json']);
  assert.equal(check.code, 0, check.stderr + check.stdout);
  const report = JSON.parse(check.stdout) as { status: string; level: string; sets: Array<{ commitment: string }> };
  assert.equal(report.status, 'protected', check.stdout);
  assert.equal(report.level, 'ORGANIZATIONAL-UNTRUSTED');
  assert.ok(report.sets.some((s) => s.commitment === 'verified'), check.stdout);
}

const skipWithout = (cmds: string) => (!HAVE_PEBBLE ? 'pebble not installed' : spawnSync('sh', ['-c', cmds], { env: thirdPartyEnv() }).status !== 0 ? `missing: ${cmds}` : false);

test('org init -> org cert (Pebble, DNS-01 by RFC 2136 to Knot, local CT log) -> org apply -> check: protected', { timeout: 180_000 }, async (t) => {
  const skip = skipWithout('command -v knotd && command -v tsig-keygen && command -v dig');
  if (skip) return t.skip(skip);
  const l = await loopback(() => startKnotPrimary());
  try {
    await flow(l);
  } finally {
    await l.stop();
  }
});

test('the same flow with BIND as the primary', { timeout: 180_000 }, async (t) => {
  const skip = skipWithout('command -v named && command -v tsig-keygen && command -v dig');
  if (skip) return t.skip(skip);
  const l = await loopback(() => startBindPrimary());
  try {
    await flow(l);
  } finally {
    await l.stop();
  }
});

test('the same flow with the root key in a PKCS#11 token (SoftHSM2, P-521): generated there, never in the folder', { timeout: 240_000 }, async (t) => {
  const skip = skipWithout('command -v knotd && command -v tsig-keygen && command -v dig && command -v softhsm2-util && test -e /usr/lib/softhsm/libsofthsm2.so');
  if (skip) return t.skip(skip);
  const l = await loopback(() => startKnotPrimary());
  try {
    const pin = 'cert-flow-pin-2291';
    const conf = initSoftHsmToken(l.work, 'emblem-cert-flow', pin);
    l.env = { ...l.env, SOFTHSM2_CONF: conf, EMBLEM_PKCS11_PIN: pin };
    await flow(l, rfc2136(l.primary), ['--pkcs11-module', SOFTHSM_MODULE, '--pkcs11-token', 'emblem-cert-flow', '--alg', 'ES512']);
    const keys = readdirSync(join(l.work, 'org', 'keys')).sort();
    assert.ok(!keys.includes('root.jwk'), `no root private key file in the folder: ${keys.join(', ')}`);
    assert.match(readFileSync(join(l.work, 'org', 'emblem-org.yaml'), 'utf8'), /pkcs11:[\s\S]*token: emblem-cert-flow/);
  } finally {
    await l.stop();
  }
});

test('the same flow through a zone file channel (Knot reloading the file)', { timeout: 180_000 }, async (t) => {
  const skip = skipWithout('command -v knotd && command -v knotc && command -v dig');
  if (skip) return t.skip(skip);
  let zonefile: Awaited<ReturnType<typeof startKnotZonefile>> | undefined;
  const l = await loopback(async () => (zonefile = await startKnotZonefile()));
  try {
    await flow(l, ['--publish', `zonefile:${zonefile!.zoneFile}`, '--reload-command', zonefile!.reloadCommand, '--servers', `127.0.0.1:${l.primary.port}`]);
  } finally {
    await l.stop();
  }
});

test('org cert failures: exit 2 naming the server (ACME, DNS, CT), the previous binding stays in use', { timeout: 180_000 }, async (t) => {
  const skip = skipWithout('command -v knotd && command -v tsig-keygen && command -v dig');
  if (skip) return t.skip(skip);
  const l = await loopback(() => startKnotPrimary());
  try {
    const dir = join(l.work, 'org');
    const cfgPath = join(dir, 'emblem-org.yaml');
    await init(l, dir);

    // Before any binding: a failure leaves the folder without one (no binding/ files, no config.binding).
    const closed = await freePort();
    const unreachable = `https://127.0.0.1:${closed}/dir`;
    let r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', unreachable, '--acme-ca', l.acmeCaFile]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`ACME server ${unreachable.replace(/[.]/g, '\\.')} unreachable.*\\[ACME_UNREACHABLE\\]`));
    assert.doesNotMatch(readFileSync(cfgPath, 'utf8'), /binding:/);

    await cert(l, dir);
    const good = readFileSync(cfgPath, 'utf8');
    const files = readdirSync(join(dir, 'binding')).sort();
    const unchanged = (what: string) => {
      assert.equal(readFileSync(cfgPath, 'utf8'), good, `${what}: config (binding) unchanged`);
      assert.deepEqual(readdirSync(join(dir, 'binding')).sort(), files, `${what}: no new binding files`);
    };

    // ACME server unreachable, with --json: the error as JSON on stdout too.
    r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', unreachable, '--acme-ca', l.acmeCaFile, '--json']);
    assert.equal(r.code, 2);
    const failure = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(failure.ok, false);
    assert.equal(failure.error.code, 'ACME_UNREACHABLE');
    assert.ok(failure.error.message.includes(unreachable), failure.error.message);
    unchanged('unreachable ACME server');

    // Pebble's HTTPS certificate not trusted (no --acme-ca): unreachable, naming the server.
    r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', l.pebble.directoryUrl]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[ACME_UNREACHABLE\]/);
    assert.ok(r.stderr.includes(l.pebble.directoryUrl), r.stderr);
    unchanged('untrusted ACME server');

    // Wrong TSIG secret: the primary refuses the challenge UPDATE; the message names it.
    const badKey = join(l.work, 'bad.key');
    writeFileSync(badKey, readFileSync(l.primary.keyFile, 'utf8').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(32, 9).toString('base64')}"`));
    writeFileSync(cfgPath, good.replace(l.primary.keyFile, badKey));
    r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', l.pebble.directoryUrl, '--acme-ca', l.acmeCaFile]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[DNS01_PUBLISH_FAILED\]/);
    assert.ok(r.stderr.includes(`127.0.0.1:${l.primary.port}`), r.stderr);
    assert.equal(readFileSync(cfgPath, 'utf8'), good.replace(l.primary.keyFile, badKey));
    writeFileSync(cfgPath, good);
    unchanged('wrong TSIG secret');

    // A CT log that does not accept Pebble's root: the log is named, nothing stored.
    const stranger = await startCtServe(l.acmeCaFile);
    try {
      writeFileSync(cfgPath, good.replace(l.ct.logListUrl, stranger.logListUrl));
      r = await emblem(l, ['org', 'cert', '--dir', dir, '--acme-directory', l.pebble.directoryUrl, '--acme-ca', l.acmeCaFile]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /\[CT_SUBMIT_FAILED\]/);
      assert.ok(r.stderr.includes(stranger.url), r.stderr);
      writeFileSync(cfgPath, good);
      unchanged('CT log refusing the chain');
    } finally {
      await stranger.close();
    }
  } finally {
    await l.stop();
  }
});

test('org cert --help documents the flags and the exit codes', async () => {
  const r = await runCli(['org', 'cert', '--help']);
  assert.equal(r.code, 0);
  for (const s of ['--acme-directory', '--acme-ca', '--json', 'ACME_UNREACHABLE', 'DNS01_PUBLISH_FAILED', 'CT_SUBMIT_FAILED', 'letsencrypt']) assert.ok(r.stdout.includes(s), s);
});
