import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { issueCertificate } from '../../src/ct/local-ca.js';
import { toPem } from '../../src/ct/certificate.js';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { freePort } from '../dns/servers.js';
import { startKnotPrimary, zoneText } from './primaries.js';

const T0 = '2026-11-01T12:00:00Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();
const b64 = (n: number) => Buffer.alloc(32, n).toString('base64');

let localCt: LocalCt;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'), EMBLEM_PASSPHRASE: undefined, PATH: thirdPartyEnv().PATH ?? '' });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });
const org = (args: string[]) => cli(['org', ...args]);

before(async () => {
  localCt = await startLocalCt('emblem-org-bad-');
});

after(() => localCt.close());

/** Every TXT and IHLE record a primary answers at a name, sorted: "exactly the previous records". */
function served(port: number, name: string): string[] {
  return ['TXT', 'TYPE65400'].flatMap((type) =>
    spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout.split('\n').filter(Boolean).map((l) => `${type} ${l}`),
  ).sort();
}

test('two primaries, the second with a wrong TSIG secret: the first is rolled back and serves exactly the previous records; an unreachable one changes nothing (exit 2)', { timeout: 180_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen && command -v dig'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen/dig missing');
  const good = await startKnotPrimary();
  const other = await startKnotPrimary();
  try {
    const dir = join(localCt.dir, 'two');
    const zone = good.zone;
    const asset = `clinic.${zone}`;
    const urlA = `rfc2136://127.0.0.1:${good.port}/${zone}`;
    const urlB = `rfc2136://127.0.0.1:${other.port}/${zone}`;
    const init = await org(['init', '--dir', dir, '--org', `https://${zone}`, '--asset', asset, '--publish', urlA, '--publish', urlB, '--tsig-key', good.keyFile,
      '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const cfgPath = join(dir, 'emblem-org.yaml');
    const keyOf = (url: string, file: string) => (text: string) => text.replace(new RegExp(`(url: ${url.replace(/[/.]/g, '\\$&')}\\n\\s+tsigKey: )\\S+`), `$1${file}`);
    writeFileSync(cfgPath, keyOf(urlB, other.keyFile)(readFileSync(cfgPath, 'utf8')));
    await setLocalBinding(localCt, cli, 'org', dir, { host: zone, kid: (JSON.parse(init.stdout) as { rootKid: string }).rootKid });
    const goodCfg = readFileSync(cfgPath, 'utf8');
    assert.match(goodCfg, new RegExp(`tsigKey: ${other.keyFile.replace(/[/.]/g, '\\$&')}`));

    const first = await org(['apply', '--dir', dir, '--at', T0, '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const previousA = served(good.port, asset);
    const previousB = served(other.port, asset);
    assert.ok(previousA.some((l) => l.includes('adem-token-g1=')), previousA.join('\n'));
    assert.deepEqual(previousB, previousA);

    // Wrong TSIG secret on the second primary, at renewal time: g2 is signed, added to the first primary, refused by
    // the second; the first is rolled back.
    const badKey = join(dir, 'bad.key');
    writeFileSync(badKey, readFileSync(other.keyFile, 'utf8').replace(/secret "[^"]+"/, `secret "${b64(9)}"`));
    writeFileSync(cfgPath, keyOf(urlB, badKey)(goodCfg));
    const bad = await org(['apply', '--dir', dir, '--at', at(5.5), '--json']);
    assert.equal(bad.code, 1, bad.stderr + bad.stdout);
    const out = JSON.parse(bad.stdout) as { ok: boolean; assets: Array<{ asset: string; ok: boolean; error: string }> };
    assert.equal(out.ok, false);
    assert.match(out.assets[0]!.error, new RegExp(`TSIG_BADSIG: 127\\.0\\.0\\.1:${other.port} rejected the TSIG signature`));
    assert.match(out.assets[0]!.error, new RegExp(`rolled back on rfc2136://127\\.0\\.0\\.1:${good.port}/`));
    assert.deepEqual(served(good.port, asset), previousA, 'the good primary serves exactly the previous records');
    assert.deepEqual(served(other.port, asset), previousB);
    const status = JSON.parse((await org(['status', '--dir', dir, '--at', at(5.5), '--json', '--offline'])).stdout) as { assets: Array<{ channels: Record<string, string> }> };
    assert.equal(status.assets[0]!.channels[urlB], 'failing');
    assert.equal(status.assets[0]!.channels[urlA], 'published');

    // An unreachable second primary: apply stops before anything changes, names the server, exit 2.
    const closed = await freePort();
    writeFileSync(cfgPath, goodCfg.replace(`127.0.0.1:${other.port}/`, `127.0.0.1:${closed}/`));
    const unreachable = await org(['apply', '--dir', dir, '--at', at(5.5)]);
    assert.equal(unreachable.code, 2, unreachable.stderr);
    assert.match(unreachable.stderr, new RegExp(`127\\.0\\.0\\.1:${closed}.*DNS_UPDATE_UNREACHABLE`));
    assert.deepEqual(served(good.port, asset), previousA);

    // Fixed: the renewal goes through on both.
    writeFileSync(cfgPath, goodCfg);
    const fixed = await org(['apply', '--dir', dir, '--at', at(5.5), '--json']);
    assert.equal(fixed.code, 0, fixed.stderr + fixed.stdout);
    for (const port of [good.port, other.port]) {
      const now = served(port, asset).join('\n');
      assert.match(now, /adem-token-g\d+=/);
      assert.doesNotMatch(now, /adem-token-g1=/);
    }
  } finally {
    await good.stop();
    await other.stop();
  }
});

test('a zonefile channel whose reload command fails: CHANNEL_RELOAD_FAILED naming the command, the zone file restored byte for byte', { timeout: 60_000 }, async () => {
  const dir = join(localCt.dir, 'zf');
  const zoneFile = join(localCt.dir, 'hospital.example.zone');
  const original = zoneText();
  writeFileSync(zoneFile, original);
  const init = await org(['init', '--dir', dir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `zonefile:${zoneFile}`,
    '--reload-command', 'echo zone not loaded >&2; exit 3', '--ttl', '60', '--yes']);
  assert.equal(init.code, 0, init.stderr);
  writeFileSync(join(localCt.dir, 'zf-chain.pem'), toPem(await issueCertificate(localCt.ca, { dnsNames: ['hospital.example'] })));
  writeFileSync(join(localCt.dir, 'zf-log.json'), JSON.stringify([{ ver: 'v1', id: b64(1), hash: b64(2) }]));
  assert.equal((await org(['set-binding', '--dir', dir, '--chain', join(localCt.dir, 'zf-chain.pem'), '--log', join(localCt.dir, 'zf-log.json')])).code, 0);
  const r = await org(['apply', '--dir', dir, '--at', T0, '--json']);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const error = (JSON.parse(r.stdout) as { assets: Array<{ error: string }> }).assets[0]!.error;
  assert.match(error, /CHANNEL_RELOAD_FAILED/);
  assert.match(error, /exit 3\): zone not loaded/);
  assert.match(error, /restored to its previous content/);
  assert.equal(readFileSync(zoneFile, 'utf8'), original, 'zone file as it was');
});

test('emblem org --help documents the exit codes and the codes that name the field or server', async () => {
  const help = await runCli(['org', '--help']);
  assert.equal(help.code, 0);
  for (const re of [/^ {2}0 {2}success/m, /^ {2}1 {2}ran, but/m, /^ {2}2 {2}stopped on an error/m, /CONFIG_INVALID/, /DNS_UPDATE_UNREACHABLE/, /TSIG_BADSIG/, /CHANNEL_RELOAD_FAILED/, /ACME_ORDER_FAILED/, /rolled back/]) {
    assert.match(help.stdout, re);
  }
  const doc = readFileSync(new URL('../../docs/issuer.md', import.meta.url), 'utf8');
  for (const code of ['CONFIG_INVALID', 'DNS_UPDATE_UNREACHABLE', 'TSIG_BADSIG', 'CHANNEL_RELOAD_FAILED', 'CHANNEL_ROLLBACK_FAILED', 'ACME_UNREACHABLE', 'ACME_ORDER_FAILED', 'Nothing half-published']) {
    assert.ok(doc.includes(code), `docs/issuer.md mentions ${code}`);
  }
});

test('config errors stop apply before anything is written, naming the field: unknown key, wrong type, nested, a missing TSIG key file', { timeout: 60_000 }, async () => {
  const dir = join(localCt.dir, 'cfg');
  const yaml = join(localCt.dir, 'cfg-out.yaml');
  const init = await org(['init', '--dir', dir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `octodns:${yaml}`, '--yes']);
  assert.equal(init.code, 0, init.stderr);
  const cfgPath = join(dir, 'emblem-org.yaml');
  const good = readFileSync(cfgPath, 'utf8');
  const cases: Array<[string, RegExp]> = [
    [`${good}colour: blue\n`, /config\.colour: unknown key \[CONFIG_INVALID\]/],
    [good.replace('ttl: 300', 'ttl: "long"'), /config\.ttl: expected integer, got string \[CONFIG_INVALID\]/],
    [good.replace(`url: octodns:${yaml}`, `url: octodns:${yaml}\n    reloadCommand: 5`), /config\.channels\[0\]\.reloadCommand: expected string, got integer/],
    [good.replace(/channels:\n/, `channels:\n  - url: rfc2136://127.0.0.1:53/hospital.example\n    tsigKey: ${join(localCt.dir, 'missing.key')}\n`), /config\.channels\[0\]\.tsigKey: cannot read .*missing\.key: ENOENT \[CONFIG_INVALID\]/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(cfgPath, text);
    const r = await org(['apply', '--dir', dir, '--at', T0]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(existsSync(yaml), false, 'nothing published');
  }
});
