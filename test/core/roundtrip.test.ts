import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_SIGNED_AT, CLI_VERIFY_AT, runCli } from '../helpers/cli.js';

/**
 * Every chain shape signed by the CLI, in both eras, verified by the CLI. The same chain must reach the same
 * levels in the JWS and the CWT era.
 */
const ORG = 'https://hospital.example';
const AUTH = 'https://authority.example';
const FAKE_LOG = JSON.stringify([{ ver: 'v1', id: Buffer.alloc(32, 7).toString('base64'), hash: Buffer.alloc(32, 9).toString('base64') }]);

let dir: string;
const path = (name: string) => join(dir, name);

async function cli(args: string[], input?: string): Promise<string> {
  const r = await runCli(args, { input });
  assert.equal(r.code, 0, `emblem ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function keygen(name: string, alg = 'ES512'): Promise<{ kid: string }> {
  const out = JSON.parse(await cli(['keygen', '--alg', alg, '--out', path(`${name}.jwk`), '--public-out', path(`${name}.pub.jwk`)]));
  return out;
}

async function sign(era: string, args: string[]): Promise<string> {
  return (await cli(['sign', ...args, '--era', era, '--at', CLI_SIGNED_AT])).trim();
}

async function verify(lines: string[], extra: string[] = []): Promise<{ code: number; report: any }> {
  const r = await runCli(['verify', '--json', '--skip-commitment-check', ...(extra.includes('--at') ? [] : ['--at', CLI_VERIFY_AT]), ...extra], { input: lines.join('\n') });
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-roundtrip-'));
  await Promise.all([keygen('emblem'), keygen('intermediate'), keygen('root'), keygen('authority')]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('keygen writes the private key with mode 0600 and never prints it', async () => {
  assert.equal(statSync(path('root.jwk')).mode & 0o777, 0o600);
  const printed = await cli(['keygen', '--out', path('x.jwk')]);
  const privateJwk = JSON.parse(readFileSync(path('x.jwk'), 'utf8'));
  assert.ok(privateJwk.d);
  assert.ok(!printed.includes(privateJwk.d));
  assert.equal(JSON.parse(printed).kid, (await cli(['kid', path('x.jwk')])).trim());
});

test('an encrypted key file (EMBLEM_PASSPHRASE) signs only with the passphrase', async () => {
  const r = await runCli(['keygen', '--out', path('enc.jwk')], { env: { EMBLEM_PASSPHRASE: 'correct horse' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path('enc.jwk'), 'utf8').trim().split('.').length, 5);
  const ok = await runCli(['sign', 'emblem', '--at', CLI_SIGNED_AT, '--key', path('enc.jwk'), '--asset', 'a.example'], { env: { EMBLEM_PASSPHRASE: 'correct horse' } });
  assert.equal(ok.code, 0, ok.stderr);
  const wrong = await runCli(['sign', 'emblem', '--at', CLI_SIGNED_AT, '--key', path('enc.jwk'), '--asset', 'a.example'], { env: { EMBLEM_PASSPHRASE: 'wrong' } });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /wrong passphrase/);
  assert.ok(!wrong.stderr.includes('"d"'));
});

for (const era of ['jws', 'cwt'] as const) {
  describe(`${era} era`, () => {
    const keyLines = () => ['emblem', 'intermediate', 'root', 'authority'].map((k) => readFileSync(path(`${k}.pub.jwk`), 'utf8').trim());
    const cwtKeyLines = async () => {
      // CWT-era keys travel as COSE_Keys; the JWK form is accepted too, so the same key lines work in both eras.
      return keyLines();
    };

    test('emblem alone without issuer: SIGNED-UNTRUSTED (spec), INVALID under the prototype policy, SIGNED-TRUSTED with its key trusted', async () => {
      const emblem = await sign(era, ['emblem', '--key', path('emblem.jwk'), '--asset', 'hospital.example']);
      const lines = [emblem, ...(await cwtKeyLines())];
      const spec = await verify(lines);
      assert.equal(spec.code, 0);
      assert.deepEqual(spec.report.result, ['SIGNED-UNTRUSTED']);
      assert.deepEqual(spec.report.levels, ['SIGNED']);
      assert.equal(spec.report.era, era);
      assert.equal(spec.report.commitment, 'not-required');
      const proto = await verify(lines, ['--policy', 'prototype']);
      assert.equal(proto.code, 1);
      assert.ok(proto.report.errors.some((e: any) => e.code === 'CHAIN_NOT_AUTHENTICATED'));
      const trusted = await verify(lines, ['--trusted-key', path('emblem.pub.jwk')]);
      assert.deepEqual(trusted.report.result, ['SIGNED-TRUSTED']);
    });

    test('emblem with issuer but no endorsement: INVALID (nothing commits the issuer)', async () => {
      const emblem = await sign(era, ['emblem', '--key', path('emblem.jwk'), '--asset', 'hospital.example', '--iss', ORG]);
      const { code, report } = await verify([emblem, ...keyLines()]);
      assert.equal(code, 1);
      assert.ok(report.errors.some((e: any) => e.code === 'ROOT_LOG_MISSING'));
    });

    test('internal chain root -> intermediate -> emblem, then an external endorsement', async () => {
      const emblem = await sign(era, ['emblem', '--key', path('emblem.jwk'), '--asset', 'hospital.example', '--asset', 'www.hospital.example', '--iss', ORG]);
      const toEmblem = await sign(era, ['endorsement', '--key', path('intermediate.jwk'), '--endorse', path('emblem.pub.jwk'), '--iss', ORG, '--sub', ORG]);
      const toIntermediate = await sign(era, ['endorsement', '--key', path('root.jwk'), '--endorse', path('intermediate.pub.jwk'), '--iss', ORG, '--sub', ORG, '--end', '--log', FAKE_LOG]);
      const external = await sign(era, ['endorsement', '--key', path('authority.jwk'), '--endorse', path('root.pub.jwk'), '--iss', AUTH, '--sub', ORG, '--end', '--log', FAKE_LOG]);

      const org = await verify([emblem, toEmblem, toIntermediate, ...keyLines()]);
      assert.equal(org.code, 0, JSON.stringify(org.report.errors));
      assert.deepEqual(org.report.result, ['ORGANIZATIONAL-UNTRUSTED']);
      assert.deepEqual(org.report.levels, ['SIGNED', 'ORGANIZATIONAL']);
      assert.equal(org.report.commitment, 'skipped');

      const endorsed = await verify([emblem, toEmblem, toIntermediate, external, ...keyLines()]);
      assert.deepEqual(endorsed.report.result, ['ENDORSED-UNTRUSTED']);
      assert.deepEqual(endorsed.report.levels, ['SIGNED', 'ORGANIZATIONAL', 'ENDORSED']);
      assert.deepEqual(endorsed.report.endorsedBy, [AUTH]);
      assert.deepEqual(endorsed.report.protected, ['hospital.example', 'www.hospital.example']);

      const authorityTrusted = await verify([emblem, toEmblem, toIntermediate, external, ...keyLines()], ['--trusted-key', path('authority.pub.jwk')]);
      assert.deepEqual(authorityTrusted.report.result, ['ENDORSED-TRUSTED']);
      const rootTrusted = await verify([emblem, toEmblem, toIntermediate, external, ...keyLines()], ['--trusted-key', path('root.pub.jwk')]);
      assert.deepEqual(rootTrusted.report.result, ['ORGANIZATIONAL-TRUSTED', 'ENDORSED-UNTRUSTED']);

      // The intermediate link needs end=true: a root endorsement without --end breaks the chain.
      const noEnd = await sign(era, ['endorsement', '--key', path('root.jwk'), '--endorse', path('intermediate.pub.jwk'), '--iss', ORG, '--sub', ORG, '--log', FAKE_LOG]);
      const broken = await verify([emblem, toEmblem, noEnd, ...keyLines()]);
      assert.deepEqual(broken.report.result, ['INVALID']);
      assert.ok(broken.report.errors.some((e: any) => e.code === 'ENDORSEMENT_NOT_TRANSITIVE'));
    });

    test('purpose constraints: satisfied passes; violated internally is INVALID; violated externally drops only that endorsement', async () => {
      const emblem = await sign(era, ['emblem', '--key', path('emblem.jwk'), '--asset', 'hospital.example', '--iss', ORG, '--purpose', 'protective']);
      const rootOk = await sign(era, ['endorsement', '--key', path('root.jwk'), '--endorse', path('emblem.pub.jwk'), '--iss', ORG, '--sub', ORG, '--log', FAKE_LOG, '--constrain-purpose', 'protective']);
      const rootBad = await sign(era, ['endorsement', '--key', path('root.jwk'), '--endorse', path('emblem.pub.jwk'), '--iss', ORG, '--sub', ORG, '--log', FAKE_LOG, '--constrain-purpose', 'indicative']);
      const extBad = await sign(era, ['endorsement', '--key', path('authority.jwk'), '--endorse', path('root.pub.jwk'), '--iss', AUTH, '--sub', ORG, '--end', '--log', FAKE_LOG, '--constrain-purpose', 'indicative']);

      assert.deepEqual((await verify([emblem, rootOk, ...keyLines()])).report.result, ['ORGANIZATIONAL-UNTRUSTED']);
      const bad = await verify([emblem, rootBad, ...keyLines()]);
      assert.deepEqual(bad.report.result, ['INVALID']);
      assert.ok(bad.report.errors.some((e: any) => e.code === 'CONSTRAINT_VIOLATED'));
      const degraded = await verify([emblem, rootOk, extBad, ...keyLines()]);
      assert.deepEqual(degraded.report.result, ['ORGANIZATIONAL-UNTRUSTED']);
      assert.deepEqual(degraded.report.endorsedBy, []);
      assert.ok(degraded.report.errors.some((e: any) => e.code === 'CONSTRAINT_VIOLATED'));
    });
  });
}

test('JWS-only constraints: assets (more general), lifetime window, distribution', async () => {
  const keyLines = ['emblem', 'root'].map((k) => readFileSync(path(`${k}.pub.jwk`), 'utf8').trim());
  const emblem = await sign('jws', ['emblem', '--key', path('emblem.jwk'), '--asset', 'a.hospital.example', '--asset', '[2001:db8::1]', '--iss', ORG, '--lifetime', '7d', '--dst', 'dns']);
  const root = (args: string[]) => sign('jws', ['endorsement', '--key', path('root.jwk'), '--endorse', path('emblem.pub.jwk'), '--iss', ORG, '--sub', ORG, '--log', FAKE_LOG, ...args]);
  const cases: Array<[string[], string]> = [
    [['--constrain-asset', '*.hospital.example', '--constrain-asset', '[2001:db8::/32]'], 'ORGANIZATIONAL-UNTRUSTED'],
    [['--constrain-asset', '*.hospital.example'], 'INVALID'],
    [['--constrain-asset', 'hospital.example', '--constrain-asset', '[2001:db8::/32]'], 'INVALID'],
    [['--max-lifetime', '7d'], 'ORGANIZATIONAL-UNTRUSTED'],
    [['--max-lifetime', '6d'], 'INVALID'],
    [['--constrain-dst', 'dns'], 'ORGANIZATIONAL-UNTRUSTED'],
    [['--constrain-dst', 'udp'], 'INVALID'],
  ];
  for (const [args, expected] of cases) {
    const { report } = await verify([emblem, await root(args), ...keyLines]);
    assert.deepEqual(report.result, [expected], `${args.join(' ')}: ${JSON.stringify(report.errors)}`);
  }
});

test('CWT era refuses JWS-only constraints instead of dropping them silently', async () => {
  const r = await runCli(['sign', 'endorsement', '--at', CLI_SIGNED_AT, '--era', 'cwt', '--key', path('root.jwk'), '--endorse', path('emblem.pub.jwk'), '--constrain-asset', 'x.example']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /purposes only/);
});

test('keys from DNS (adem-key TXT records) and JWS tokens naming them by kid', async () => {
  const emblem = await sign('jws', ['emblem', '--key', path('emblem.jwk'), '--asset', 'hospital.example']);
  const key = readFileSync(path('emblem.pub.jwk'), 'utf8').trim();
  const txt = [`"adem-token=${emblem.slice(0, 200)}" "${emblem.slice(200)}"`, `adem-key=${key}`];
  writeFileSync(path('set.txt'), txt.join('\n'));
  const r = await runCli(['verify', '--json', '--at', CLI_VERIFY_AT, path('set.txt')]);
  assert.equal(r.code, 0, r.stdout);
  assert.deepEqual(JSON.parse(r.stdout).result, ['SIGNED-UNTRUSTED']);
});

test('usage errors exit 2 with a one-line message and no stack trace', async () => {
  const r = await runCli(['verify', '/nonexistent/file']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const bad = await runCli(['sign', 'emblem', '--at', CLI_SIGNED_AT, '--key', path('emblem.jwk'), '--asset', 'bad*name.example']);
  assert.equal(bad.code, 2);
});
