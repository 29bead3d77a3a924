import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';

/**
 * `emblem key encrypt|decrypt|passwd FILE`: each rewrites FILE atomically (0600), keeps the old file as
 * FILE.replaced-<UTC time>, refuses what would weaken protection without being asked, never prints key material.
 */

const NO_PASSPHRASE = { EMBLEM_PASSPHRASE: undefined, EMBLEM_NEW_PASSPHRASE: undefined };
const NOW = '2031-02-03T04:05:06Z';
const STAMP = '20310203T040506Z';

let dir: string;
let plain: string; // the key file's original (unencrypted) text
let d: string; // its private scalar: must never be printed
const path = (name: string) => join(dir, name);
const cli = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(args, { env: { ...NO_PASSPHRASE, ...env } });
const isJwe = (name: string) => readFileSync(path(name), 'utf8').trim().split('.').length === 5;
const kept = () => readdirSync(dir).filter((n) => n.includes('.replaced-')).sort();

function assertNoSecrets(r: CliResult, ...secrets: string[]): void {
  for (const s of [d, ...secrets]) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `secret ${s.slice(0, 4)}... printed`);
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-key-'));
  const r = await cli(['keygen', '--alg', 'ES256', '--out', path('k.jwk'), '--public-out', path('k.pub.jwk')]);
  assert.equal(r.code, 0, r.stderr);
  plain = readFileSync(path('k.jwk'), 'utf8');
  d = JSON.parse(plain).d;
  writeFileSync(path('pass1'), 'first passphrase\n');
  writeFileSync(path('pass2'), 'second passphrase\n');
  writeFileSync(path('blank'), ' \n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('encrypt: plain JWK -> JWE in place, old file kept (0600), needs a passphrase, refuses an empty one', async () => {
  const none = await cli(['key', 'encrypt', path('k.jwk')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /a passphrase is needed: pass --passphrase-file FILE or set EMBLEM_PASSPHRASE/);
  const blank = await cli(['key', 'encrypt', path('k.jwk'), '--passphrase-file', path('blank')]);
  assert.equal(blank.code, 2);
  assert.match(blank.stderr, /empty or only whitespace/);
  const emptyEnv = await cli(['key', 'encrypt', path('k.jwk')], { EMBLEM_PASSPHRASE: '' });
  assert.equal(emptyEnv.code, 2);
  assert.equal(readFileSync(path('k.jwk'), 'utf8'), plain, 'refusals change nothing');
  assert.deepEqual(kept(), []);

  const r = await cli(['key', 'encrypt', path('k.jwk'), '--passphrase-file', path('pass1'), '--now', NOW, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.encrypted, true);
  assert.equal(out.oldFile, path(`k.jwk.replaced-${STAMP}`));
  assert.equal(out.kid, (await cli(['kid', path('k.pub.jwk')])).stdout.trim());
  assert.ok(isJwe('k.jwk'));
  assert.equal(statSync(path('k.jwk')).mode & 0o777, 0o600);
  assert.equal(readFileSync(out.oldFile, 'utf8'), plain);
  assert.equal(statSync(out.oldFile).mode & 0o777, 0o600);
  assert.match(r.stderr, /old, unencrypted file is kept as .*delete it/);
  assertNoSecrets(r, 'first passphrase');

  // the encrypted key signs with the passphrase (and only with it)
  const sign = await cli(['sign', 'emblem', '--key', path('k.jwk'), '--asset', 'a.example'], { EMBLEM_PASSPHRASE: 'first passphrase' });
  assert.equal(sign.code, 0, sign.stderr);

  const again = await cli(['key', 'encrypt', path('k.jwk'), '--passphrase-file', path('pass1')]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already encrypted: use `emblem key passwd`/);
});

test('passwd: old passphrase -> new one (file or EMBLEM_NEW_PASSPHRASE), old file kept', async () => {
  const before = readFileSync(path('k.jwk'), 'utf8');
  const noNew = await cli(['key', 'passwd', path('k.jwk'), '--passphrase-file', path('pass1')]);
  assert.equal(noNew.code, 2);
  assert.match(noNew.stderr, /needs the new passphrase: pass --new-passphrase-file FILE or set EMBLEM_NEW_PASSPHRASE/);
  const blankNew = await cli(['key', 'passwd', path('k.jwk'), '--passphrase-file', path('pass1'), '--new-passphrase-file', path('blank')]);
  assert.equal(blankNew.code, 2);
  assert.match(blankNew.stderr, /empty or only whitespace/);
  const emptyNewEnv = await cli(['key', 'passwd', path('k.jwk'), '--passphrase-file', path('pass1')], { EMBLEM_NEW_PASSPHRASE: '' });
  assert.equal(emptyNewEnv.code, 2);
  assert.match(emptyNewEnv.stderr, /\$EMBLEM_NEW_PASSPHRASE is empty/);
  const wrong = await cli(['key', 'passwd', path('k.jwk'), '--passphrase-file', path('pass2'), '--new-passphrase-file', path('pass1')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /wrong passphrase/);
  assert.equal(readFileSync(path('k.jwk'), 'utf8'), before, 'refusals change nothing');

  const r = await cli(['key', 'passwd', path('k.jwk'), '--passphrase-file', path('pass1'), '--new-passphrase-file', path('pass2'), '--now', NOW, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.oldFile, path(`k.jwk.replaced-${STAMP}-2`), 'the kept plain file of the previous test is not replaced');
  assert.equal(readFileSync(out.oldFile, 'utf8'), before);
  assertNoSecrets(r, 'first passphrase', 'second passphrase');
  assert.ok(isJwe('k.jwk'));
  const oldPass = await cli(['sign', 'emblem', '--key', path('k.jwk'), '--asset', 'a.example', '--passphrase-file', path('pass1')]);
  assert.equal(oldPass.code, 2);
  const newPass = await cli(['sign', 'emblem', '--key', path('k.jwk'), '--asset', 'a.example', '--passphrase-file', path('pass2')]);
  assert.equal(newPass.code, 0, newPass.stderr);

  // the environment variables work as well; text output names the kept file
  const env = await cli(['key', 'passwd', path('k.jwk'), '--now', NOW], { EMBLEM_PASSPHRASE: 'second passphrase', EMBLEM_NEW_PASSPHRASE: 'third passphrase' });
  assert.equal(env.code, 0, env.stderr);
  assert.match(env.stdout, new RegExp(`k\\.jwk: encrypted private key, kid [a-z2-7]{52}; old file kept as .*k\\.jwk\\.replaced-${STAMP}-3\\n$`));
  assertNoSecrets(env, 'second passphrase', 'third passphrase');
});

test('decrypt: JWE -> plain only with --yes-write-plaintext, old (encrypted) file kept', async () => {
  const before = readFileSync(path('k.jwk'), 'utf8');
  const unconfirmed = await cli(['key', 'decrypt', path('k.jwk')], { EMBLEM_PASSPHRASE: 'third passphrase' });
  assert.equal(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, /pass --yes-write-plaintext to confirm/);
  const noPass = await cli(['key', 'decrypt', '--yes-write-plaintext', path('k.jwk')]);
  assert.equal(noPass.code, 2);
  assert.match(noPass.stderr, /is encrypted: pass --passphrase-file FILE or set EMBLEM_PASSPHRASE/);
  assert.equal(readFileSync(path('k.jwk'), 'utf8'), before);

  const r = await cli(['key', 'decrypt', '--yes-write-plaintext', path('k.jwk'), '--now', NOW, '--json'], { EMBLEM_PASSPHRASE: 'third passphrase' });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.encrypted, false);
  assert.equal(out.oldFile, path(`k.jwk.replaced-${STAMP}-4`));
  assert.equal(readFileSync(out.oldFile, 'utf8'), before);
  assert.equal(statSync(path('k.jwk')).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(path('k.jwk'), 'utf8')), JSON.parse(plain), 'the same key after encrypt, passwd x2, decrypt');
  assertNoSecrets(r, 'third passphrase');
  assert.deepEqual(kept(), [1, 2, 3, 4].map((n) => `k.jwk.replaced-${STAMP}${n > 1 ? `-${n}` : ''}`));

  const plainAgain = await cli(['key', 'decrypt', '--yes-write-plaintext', path('k.jwk')]);
  assert.equal(plainAgain.code, 2);
  assert.match(plainAgain.stderr, /not encrypted/);
  const passwdPlain = await cli(['key', 'passwd', path('k.jwk'), '--new-passphrase-file', path('pass1')]);
  assert.equal(passwdPlain.code, 2);
  assert.match(passwdPlain.stderr, /not encrypted: use `emblem key encrypt`/);
});

test('key commands refuse what is not a private key and a missing file, writing nothing', async () => {
  const pub = readFileSync(path('k.pub.jwk'), 'utf8');
  const r = await cli(['key', 'encrypt', path('k.pub.jwk'), '--passphrase-file', path('pass1')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /KEY_INVALID/);
  assert.equal(readFileSync(path('k.pub.jwk'), 'utf8'), pub);
  writeFileSync(path('junk'), '{"d": "SECRETSECRET", not json');
  const junk = await cli(['key', 'encrypt', path('junk'), '--passphrase-file', path('pass1')]);
  assert.equal(junk.code, 2);
  assert.ok(!junk.stderr.includes('SECRETSECRET'), 'the text of a damaged key file is not echoed');
  const missing = await cli(['key', 'encrypt', path('missing.jwk'), '--passphrase-file', path('pass1')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read key file .*ENOENT/);
  assert.ok(!existsSync(path('missing.jwk')));
  assert.ok(!kept().some((n) => !n.startsWith('k.jwk.')));
});

test('every key subcommand has --help with --json and names the kept file', async () => {
  for (const sub of ['encrypt', 'decrypt', 'passwd']) {
    const r = await cli(['key', sub, '--help']);
    assert.equal(r.code, 0, sub);
    assert.match(r.stdout, /--json/, sub);
    assert.match(r.stdout, /FILE\.replaced-<UTC time>/, sub);
  }
});
