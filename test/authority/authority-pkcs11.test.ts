/**
 * Root keys in a PKCS#11 token (SoftHSM2) on both sides: the organisation's proof of possession is signed in its
 * token (through the org runtime's key loading), the authority's endorsement in its own.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalCa, issueBindingCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { runCli } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { tempDir } from '../dns/servers.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'emblem-authority-test';
const PIN = 'emblem-pin-2718';
const HAVE_SOFTHSM = existsSync(MODULE) && existsSync('/usr/bin/softhsm2-util');
const T0 = '2026-11-01T12:00:00Z';

let work: { path: string; remove(): void };
let ca: LocalCa;
let ctLog: RunningLocalCtLog;
let softhsmConf: string;
const env = () => ({ EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: undefined, SOFTHSM2_CONF: softhsmConf, EMBLEM_PKCS11_PIN: PIN });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

before(async () => {
  if (!HAVE_SOFTHSM) return;
  work = tempDir('emblem-authority-pkcs11-');
  mkdirSync(join(work.path, 'tokens'));
  softhsmConf = join(work.path, 'softhsm2.conf');
  writeFileSync(softhsmConf, `directories.tokendir = ${join(work.path, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '5678'], { env: thirdPartyEnv({ SOFTHSM2_CONF: softhsmConf }), stdio: 'pipe', timeout: 20_000 });
  ca = await createLocalCa();
  ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  writeFileSync(join(work.path, 'ca.pem'), ca.pem);
});

after(async () => {
  await ctLog?.close();
  work?.remove();
});

async function bind(kind: 'org' | 'authority', dir: string, host: string, kid: string): Promise<void> {
  const logged = await issueBindingCertificate(ca, ctLog.url, { host, kid });
  writeFileSync(join(dir, 'chain.pem'), logged.chainPem);
  writeFileSync(join(dir, 'log.json'), JSON.stringify([logged.v1]));
  const r = await cli([kind, 'set-binding', '--dir', dir, '--chain', join(dir, 'chain.pem'), '--log', join(dir, 'log.json')]);
  assert.equal(r.code, 0, r.stderr);
}

test('PKCS#11 roots: request proof signed in the organisation\'s token, endorsement in the authority\'s; review ok, import verifies', { skip: !HAVE_SOFTHSM && 'softhsm2 not installed', timeout: 120_000 }, async () => {
  const orgDir = join(work.path, 'org');
  const oi = await cli(['org', 'init', '--dir', orgDir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `octodns:${join(work.path, 'zone.yaml')}`,
    '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work.path, 'ca.pem'), '--pkcs11-module', MODULE, '--pkcs11-token', TOKEN, '--pkcs11-label', 'org-root', '--yes', '--json']);
  assert.equal(oi.code, 0, oi.stderr);
  const { rootKid } = JSON.parse(oi.stdout) as { rootKid: string };
  await bind('org', orgDir, 'hospital.example', rootKid);

  const authDir = join(work.path, 'authority');
  const ai = await cli(['authority', 'init', '--dir', authDir, '--authority', 'https://authority.example', '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work.path, 'ca.pem'),
    '--pkcs11-module', MODULE, '--pkcs11-token', TOKEN, '--pkcs11-label', 'authority-root', '--yes', '--json']);
  assert.equal(ai.code, 0, ai.stderr);
  const { kid } = JSON.parse(ai.stdout) as { kid: string };
  assert.equal(existsSync(join(authDir, 'keys/root.jwk')), false, 'no private key file: it stays in the token');
  assert.doesNotMatch(readFileSync(join(authDir, 'emblem-authority.json'), 'utf8'), new RegExp(PIN));
  await bind('authority', authDir, 'authority.example', kid);

  const req = join(work.path, 'req.json');
  const made = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', 'https://authority.example', '--constrain-purpose', 'protective', '--max-lifetime', '30d', '--out', req, '--at', T0]);
  assert.equal(made.code, 0, made.stderr);
  const review = await cli(['authority', 'review', '--dir', authDir, req, '--at', T0, '--json']);
  assert.equal(review.code, 0, review.stderr);
  assert.equal((JSON.parse(review.stdout) as { verdict: string }).verdict, 'ok', review.stdout);
  const resp = join(work.path, 'resp.json');
  const grant = await cli(['authority', 'grant', '--dir', authDir, req, '--out', resp, '--at', T0, '--json']);
  assert.equal(grant.code, 0, grant.stderr);
  const response = JSON.parse(readFileSync(resp, 'utf8')) as { authorityKey: JsonWebKey };
  assert.deepEqual(response.authorityKey, JSON.parse(readFileSync(join(authDir, 'keys/root.pub.jwk'), 'utf8')));
  const imported = await cli(['org', 'import-endorsement', '--dir', orgDir, resp, '--at', T0, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
});
