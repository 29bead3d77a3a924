/**
 * Root keys in a PKCS#11 token (SoftHSM2) on both sides: the organisation's proof of possession is signed in its
 * token (through the org runtime's key loading), the authority's endorsement in its own.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { HAVE_SOFTHSM, initSoftHsmToken, SOFTHSM_MODULE } from '../helpers/softhsm.js';

const MODULE = SOFTHSM_MODULE;
const TOKEN = 'emblem-authority-test';
const PIN = 'emblem-pin-2718';
const T0 = '2026-11-01T12:00:00Z';

let localCt: LocalCt;
let softhsmConf: string;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'), EMBLEM_PASSPHRASE: undefined, SOFTHSM2_CONF: softhsmConf, EMBLEM_PKCS11_PIN: PIN });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

before(async () => {
  if (!HAVE_SOFTHSM) return;
  localCt = await startLocalCt('emblem-authority-pkcs11-');
  softhsmConf = initSoftHsmToken(localCt.dir, TOKEN, PIN);
});

after(() => localCt?.close());

test('PKCS#11 roots: request proof signed in the organisation\'s token, endorsement in the authority\'s; review ok, import verifies', { skip: !HAVE_SOFTHSM && 'softhsm2 not installed', timeout: 120_000 }, async () => {
  const orgDir = join(localCt.dir, 'org');
  const oi = await cli(['org', 'init', '--dir', orgDir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `octodns:${join(localCt.dir, 'zone.yaml')}`,
    '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--pkcs11-module', MODULE, '--pkcs11-token', TOKEN, '--pkcs11-label', 'org-root', '--yes', '--json']);
  assert.equal(oi.code, 0, oi.stderr);
  const { rootKid } = JSON.parse(oi.stdout) as { rootKid: string };
  await setLocalBinding(localCt, cli, 'org', orgDir, { host: 'hospital.example', kid: rootKid });

  const authDir = join(localCt.dir, 'authority');
  const ai = await cli(['authority', 'init', '--dir', authDir, '--authority', 'https://authority.example', '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle,
    '--pkcs11-module', MODULE, '--pkcs11-token', TOKEN, '--pkcs11-label', 'authority-root', '--yes', '--json']);
  assert.equal(ai.code, 0, ai.stderr);
  const { kid } = JSON.parse(ai.stdout) as { kid: string };
  assert.equal(existsSync(join(authDir, 'keys/root.jwk')), false, 'no private key file: it stays in the token');
  assert.doesNotMatch(readFileSync(join(authDir, 'emblem-authority.json'), 'utf8'), new RegExp(PIN));
  await setLocalBinding(localCt, cli, 'authority', authDir, { host: 'authority.example', kid: kid });

  const req = join(localCt.dir, 'req.json');
  const made = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', 'https://authority.example', '--constrain-purpose', 'protective', '--max-lifetime', '30d', '--out', req, '--at', T0]);
  assert.equal(made.code, 0, made.stderr);
  const review = await cli(['authority', 'review', '--dir', authDir, req, '--at', T0, '--json']);
  assert.equal(review.code, 0, review.stderr);
  assert.equal((JSON.parse(review.stdout) as { verdict: string }).verdict, 'ok', review.stdout);
  const resp = join(localCt.dir, 'resp.json');
  const grant = await cli(['authority', 'grant', '--dir', authDir, req, '--out', resp, '--at', T0, '--json']);
  assert.equal(grant.code, 0, grant.stderr);
  const response = JSON.parse(readFileSync(resp, 'utf8')) as { authorityKey: JsonWebKey };
  assert.deepEqual(response.authorityKey, JSON.parse(readFileSync(join(authDir, 'keys/root.pub.jwk'), 'utf8')));
  const imported = await cli(['org', 'import-endorsement', '--dir', orgDir, resp, '--at', T0, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
});
