/**
 * Issue 10, acceptance 5: the organisation's root key in a PKCS#11 token (Debian's SoftHSM2). `org init
 * --pkcs11-module --pkcs11-token` generates it inside the token (sensitive, not extractable), the folder keeps only
 * the reference and the public key, and `org apply` / `org run` sign the root endorsement in the token; the flow
 * of org-cli.test.ts (Knot, RFC 2136, a local CA + local CT log for the binding certificate) then checks
 * `protected` with the commitment verified. Bad PINs and unknown tokens fail with their codes and write nothing.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pkcs11Key, Pkcs11Token } from '../../src/keys/pkcs11.js';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { HAVE_SOFTHSM, initSoftHsmToken, SOFTHSM_MODULE } from '../helpers/softhsm.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { startKnotPrimary } from './primaries.js';

const MODULE = SOFTHSM_MODULE;
const TOKEN = 'emblem-org-test';
const PIN = 'emblem-pin-8413';
const HAVE_KNOT = spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status === 0;

const T0 = '2026-11-01T12:00:00Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();

let localCt: LocalCt;
let softhsmConf: string;

/** The CLI's environment: SoftHSM's configuration, the PIN (unless overridden), no passphrase (unencrypted emblem key). */
const env = (extra: Record<string, string | undefined> = {}) => ({
  EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'),
  EMBLEM_PASSPHRASE: undefined,
  SOFTHSM2_CONF: softhsmConf,
  EMBLEM_PKCS11_PIN: PIN,
  ...extra,
});

const cli = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { env: env(extra), timeoutMs: 60_000 });
const org = (args: string[], extra: Record<string, string | undefined> = {}) => cli(['org', ...args], extra);

function dig(port: number, name: string, type: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

/** Every file under `dir`, relative. */
function files(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`]));
}

/** Opens the token in this process (the CLI runs as a child), runs `f`, closes it again. */
async function withToken<T>(f: (token: Pkcs11Token) => T): Promise<T> {
  const token = await Pkcs11Token.open({ module: MODULE, token: TOKEN, pin: PIN });
  try {
    return f(token);
  } finally {
    token.close();
  }
}

const privateKeyCount = () => withToken((t) => t.find([{ type: t.lib.CKA_CLASS, value: t.lib.CKO_PRIVATE_KEY }]).length);

describe('emblem org with the root key in a PKCS#11 token (SoftHSM2)', { skip: !HAVE_SOFTHSM && 'softhsm2 not installed', timeout: 400_000 }, () => {
  before(async () => {
    localCt = await startLocalCt('emblem-org-pkcs11-');
    softhsmConf = initSoftHsmToken(localCt.dir, TOKEN, PIN);
    // SoftHSM reads its configuration at C_Initialize: in the CLI children (env) and in this process (the checks).
    process.env.SOFTHSM2_CONF = softhsmConf;
  });

  after(async () => {
    delete process.env.SOFTHSM2_CONF;
    await localCt?.close();
  });

  for (const [alg, crv] of [['ES256', 'P-256'], ['ES512', 'P-521']] as const) {
    test(`${alg} (${crv}): init in the token, set-binding, apply against Knot, check protected with the commitment verified; run --once renews in the token`, { skip: !HAVE_KNOT && 'knotd/tsig-keygen missing', timeout: 180_000 }, async () => {
      const primary = await startKnotPrimary();
      try {
        const dir = join(localCt.dir, `org-${alg}`);
        const zone = primary.zone;
        const init = await org(['init', '--dir', dir, '--org', `https://${zone}`, '--asset', `clinic.${zone}`, '--publish', `rfc2136://127.0.0.1:${primary.port}/${zone}`,
          '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60',
          '--alg', alg, '--pkcs11-module', MODULE, '--pkcs11-token', TOKEN, '--pkcs11-label', `root-${alg}`, '--yes', '--json']);
        assert.equal(init.code, 0, init.stderr);
        const made = JSON.parse(init.stdout) as { rootKid: string; rootKey: { kind: string; token: string; label: string; id: string; alg: string } };
        assert.deepEqual({ ...made.rootKey, id: undefined }, { kind: 'pkcs11', module: MODULE, token: TOKEN, label: `root-${alg}`, id: undefined, alg });
        assert.match(made.rootKey.id, /^[0-9a-f]{32}$/);

        // The folder has the reference and the public key, no private root key; the PIN is nowhere in it.
        assert.deepEqual(files(join(dir, 'keys')), ['emblem.jwk', 'emblem.pub.jwk', 'root.pub.jwk']);
        for (const f of files(dir)) assert.ok(!readFileSync(join(dir, f), 'utf8').includes(PIN), `${f} holds the PIN`);
        const yaml = readFileSync(join(dir, 'emblem-org.yaml'), 'utf8');
        assert.match(yaml, new RegExp(`root:\\n\\s+pkcs11:\\n\\s+module: ${MODULE}\\n\\s+token: ${TOKEN}\\n\\s+label: root-${alg}\\n\\s+alg: ${alg}\\n\\s+id: ${made.rootKey.id}\\n\\s+public: keys/root.pub.jwk`));
        assert.doesNotMatch(yaml, /pin/i);
        const rootPub = JSON.parse(readFileSync(join(dir, 'keys/root.pub.jwk'), 'utf8')) as JsonWebKey;
        assert.equal(rootPub.crv, crv);
        assert.equal((rootPub as { d?: string }).d, undefined);

        // The token holds the private key: sensitive, never extractable, and it is the key the folder publishes.
        await withToken((token) => {
          const key = Pkcs11Key.find(token, `root-${alg}`);
          assert.deepEqual(key.privateKeyAttributes(), { extractable: false, sensitive: true, token: true, neverExtractable: true });
          assert.equal(key.alg, alg);
          assert.deepEqual(key.publicJwk(), rootPub);
          // Reading CKA_VALUE of a sensitive key is refused by the token itself.
          assert.throws(() => token.attributes(key.privateHandle, [token.lib.CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
        });

        await setLocalBinding(localCt, cli, 'org', dir, { host: zone, kid: made.rootKid });

        // A wrong PIN at apply: a clear error, nothing signed or published.
        const refused = await org(['apply', '--dir', dir, '--at', T0, '--json'], { EMBLEM_PKCS11_PIN: '9999' });
        assert.equal(refused.code, 2, refused.stderr + refused.stdout);
        assert.match(refused.stderr, /refused the PIN.*\[PKCS11_LOGIN_FAILED\]/);
        assert.equal(dig(primary.port, `clinic.${zone}`, 'TXT').trim(), '');
        const noPin = await org(['apply', '--dir', dir, '--at', T0, '--json'], { EMBLEM_PKCS11_PIN: undefined });
        assert.equal(noPin.code, 2);
        assert.match(noPin.stderr, /\[PKCS11_PIN_MISSING\]/);

        const applied = await org(['apply', '--dir', dir, '--at', T0, '--json']);
        assert.equal(applied.code, 0, applied.stderr + applied.stdout);
        const result = JSON.parse(applied.stdout) as { ok: boolean; assets: Array<{ level: string }> };
        assert.equal(result.ok, true);
        assert.deepEqual(result.assets.map((a) => a.level), ['ORGANIZATIONAL-UNTRUSTED']);
        // The published root key is the token's key.
        assert.ok(dig(primary.port, `clinic.${zone}`, 'TXT').includes(rootPub.x!), 'root public key published');

        const check = await runCli(['check', `clinic.${zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(0.1), '--json'], { env: env() });
        const report = JSON.parse(check.stdout) as { status: string; level: string };
        assert.equal(report.status, 'protected', check.stdout);
        assert.equal(report.level, 'ORGANIZATIONAL-UNTRUSTED');
        assert.match(check.stdout, /"commitment":"verified"|"verified"/);

        // Renewal by `org run --once`: a new set signed in the token replaces the first one and verifies.
        const run = await org(['run', '--dir', dir, '--once', '--at', at(5.5)]);
        assert.equal(run.code, 0, run.stderr + run.stdout);
        const txt = dig(primary.port, `clinic.${zone}`, 'TXT');
        assert.match(txt, /adem-token-g2=/);
        assert.doesNotMatch(txt, /adem-token-g1=/);
        const later = await runCli(['check', `clinic.${zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(8), '--json'], { env: env() });
        assert.equal((JSON.parse(later.stdout) as { status: string }).status, 'protected', later.stdout);
        assert.deepEqual(files(join(dir, 'keys')), ['emblem.jwk', 'emblem.pub.jwk', 'root.pub.jwk']);
      } finally {
        await primary.stop();
      }
    });
  }

  test('a wrong PIN, no PIN, an unknown token, a taken label or an unsupported algorithm: a clear code, nothing written', { timeout: 120_000 }, async () => {
    const base = ['--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `octodns:${join(localCt.dir, 'zone.yaml')}`, '--pkcs11-module', MODULE, '--yes'];
    const keysBefore = await privateKeyCount();
    const cases: Array<[string, string[], Record<string, string | undefined>, RegExp]> = [
      ['wrong-pin', ['--pkcs11-token', TOKEN], { EMBLEM_PKCS11_PIN: '0000' }, /\[PKCS11_LOGIN_FAILED\]/],
      ['no-pin', ['--pkcs11-token', TOKEN], { EMBLEM_PKCS11_PIN: undefined }, /\[PKCS11_PIN_MISSING\]/],
      ['unknown-token', ['--pkcs11-token', 'no-such-token'], {}, /no PKCS#11 token labelled "no-such-token".*\[PKCS11_TOKEN_NOT_FOUND\]/],
      ['bad-module', ['--pkcs11-token', TOKEN, '--pkcs11-module', join(localCt.dir, 'missing.so')], {}, /\[PKCS11_MODULE_UNLOADABLE\]/],
      ['es384', ['--pkcs11-token', TOKEN, '--alg', 'ES384'], {}, /ES256 \(P-256\) or ES512 \(P-521\).*\[USAGE\]/],
      ['module-only', [], {}, /--pkcs11-module and --pkcs11-token go together/],
    ];
    for (const [name, args, extra, want] of cases) {
      const dir = join(localCt.dir, `bad-${name}`);
      const r = await org(['init', '--dir', dir, ...base, ...args], extra);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, want, name);
      assert.equal(existsSync(dir), false, `${name}: ${dir} was created`);
    }
    // The PIN file: used when given, its path (never its content) kept for apply/run.
    writeFileSync(join(localCt.dir, 'wrong-pin'), '4321\n', { mode: 0o600 });
    const pinFile = await org(['init', '--dir', join(localCt.dir, 'bad-pin-file'), ...base, '--pkcs11-token', TOKEN, '--pkcs11-pin-file', join(localCt.dir, 'wrong-pin')]);
    assert.equal(pinFile.code, 2);
    assert.match(pinFile.stderr, /\[PKCS11_LOGIN_FAILED\]/);
    assert.equal(existsSync(join(localCt.dir, 'bad-pin-file')), false);

    // A label already taken in the token: refused, no second key, no folder.
    const first = await org(['init', '--dir', join(localCt.dir, 'taken-1'), ...base, '--pkcs11-token', TOKEN, '--pkcs11-label', 'shared-label']);
    assert.equal(first.code, 0, first.stderr);
    const second = await org(['init', '--dir', join(localCt.dir, 'taken-2'), ...base, '--pkcs11-token', TOKEN, '--pkcs11-label', 'shared-label']);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /already holds an object labelled "shared-label".*\[PKCS11_KEY_EXISTS\]/);
    assert.equal(existsSync(join(localCt.dir, 'taken-2')), false);
    assert.equal(await privateKeyCount(), keysBefore + 1, 'only the first init made a key in the token');

    // A folder whose reference no longer matches the token's key (CKA_ID changed in the config) refuses to sign.
    const cfgPath = join(localCt.dir, 'taken-1', 'emblem-org.yaml');
    const cfg = readFileSync(cfgPath, 'utf8');
    writeFileSync(cfgPath, cfg.replace(/id: [0-9a-f]+/, `id: ${'ab'.repeat(16)}`));
    const { openRuntime } = await import('../../src/org/runtime.js');
    const rt = await openRuntime(join(localCt.dir, 'taken-1'), { now: Date.parse(T0) / 1000 });
    const saved = process.env.EMBLEM_PKCS11_PIN;
    process.env.EMBLEM_PKCS11_PIN = PIN;
    try {
      await assert.rejects(rt.keys(), (e: { code?: string; message: string }) => e.code === 'PKCS11_KEY_MISMATCH' && /CKA_ID/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env.EMBLEM_PKCS11_PIN;
      else process.env.EMBLEM_PKCS11_PIN = saved;
      rt.close();
    }
  });
});

test('config: a key is exactly one of file and pkcs11; a pkcs11 reference needs module, token, label and ES256/ES512', async () => {
  const { parseConfig } = await import('../../src/org/config.js');
  const cfg = (root: string) => `version: 1
organization: https://hospital.example
assets: [clinic.hospital.example]
keys: { root: ${root}, emblem: { file: keys/emblem.jwk } }
channels: [{ url: "octodns:zone.yaml" }]
`;
  const ref = '{ module: /usr/lib/softhsm/libsofthsm2.so, token: T, label: root, alg: ES512, id: 00ff }';
  const parsed = await parseConfig(cfg(`{ pkcs11: ${ref}, public: keys/root.pub.jwk }`));
  assert.deepEqual(parsed.keys.root.pkcs11, { module: '/usr/lib/softhsm/libsofthsm2.so', token: 'T', label: 'root', alg: 'ES512', id: '00ff' });
  const cases: Array<[string, RegExp]> = [
    [`{ file: keys/root.jwk, pkcs11: ${ref} }`, /config\.keys\.root: give "file" or "pkcs11", not both/],
    ['{ public: keys/root.pub.jwk }', /config\.keys\.root: needs "file" or "pkcs11"/],
    ['{ pkcs11: { module: m.so, token: T, label: root } }', /config\.keys\.root\.pkcs11\.alg: required/],
    ['{ pkcs11: { module: m.so, token: T, label: root, alg: ES384 } }', /config\.keys\.root\.pkcs11\.alg: must be one of "ES256", "ES512"/],
    ['{ pkcs11: { module: m.so, token: T, label: root, alg: ES256, pin: "1234" } }', /config\.keys\.root\.pkcs11\.pin: unknown key/],
    ['{ pkcs11: { module: m.so, token: T, label: root, alg: ES256, id: XYZ } }', /config\.keys\.root\.pkcs11\.id: .* does not match/],
  ];
  for (const [root, re] of cases) await assert.rejects(parseConfig(cfg(root)), (e: Error & { code: string }) => e.code === 'CONFIG_INVALID' && re.test(e.message), root);
});
