import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, symlinkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';

/** `emblem keygen` never loses a key: no overwrite without --force, and --force keeps the old file. */

// No passphrase from the caller's environment leaks into these runs.
const NO_PASSPHRASE = { EMBLEM_PASSPHRASE: undefined, EMBLEM_NEW_PASSPHRASE: undefined };
// The clock for kept files' names is injected (--now): nothing here depends on today's date.
const NOW = '2031-02-03T04:05:06Z';
const STAMP = '20310203T040506Z';

let dir: string;
const path = (name: string) => join(dir, name);
const keygen = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(['keygen', '--alg', 'ES256', ...args], { env: { ...NO_PASSPHRASE, ...env } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-keygen-'));
  const r = await keygen(['--out', path('root.jwk'), '--public-out', path('root.pub.jwk')]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('keygen over an existing private key fails (exit 2), names --force, and leaves the key byte-identical', async () => {
  const key = readFileSync(path('root.jwk'));
  const pub = readFileSync(path('root.pub.jwk'));
  for (const args of [
    ['--out', path('root.jwk')],
    ['--out', path('root.jwk'), '--public-out', path('other.pub.jwk')],
    ['--out', path('other.jwk'), '--public-out', path('root.pub.jwk')], // an existing public key is refused too
  ]) {
    const r = await keygen(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /already exists: not overwriting it \(use --force to replace it, .*or choose another name\) \[FILE_EXISTS\]\n$/);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  }
  assert.deepEqual(readFileSync(path('root.jwk')), key);
  assert.deepEqual(readFileSync(path('root.pub.jwk')), pub);
  // refused before anything was written: no half-made pair
  assert.ok(!existsSync(path('other.jwk')) && !existsSync(path('other.pub.jwk')));
  assert.deepEqual(readdirSync(dir).sort(), ['root.jwk', 'root.pub.jwk']);
});

test('--force writes the new key and keeps the old ones as NAME.replaced-<UTC time>, mode 0600', async () => {
  writeFileSync(path('f.jwk'), 'OLD PRIVATE\n', { mode: 0o600 });
  writeFileSync(path('f.pub.jwk'), 'OLD PUBLIC\n', { mode: 0o644 });
  const r = await keygen(['--force', '--now', NOW, '--out', path('f.jwk'), '--public-out', path('f.pub.jwk')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.oldPrivateKeyFile, path(`f.jwk.replaced-${STAMP}`));
  assert.equal(out.oldPublicKeyFile, path(`f.pub.jwk.replaced-${STAMP}`));
  assert.equal(readFileSync(path(`f.jwk.replaced-${STAMP}`), 'utf8'), 'OLD PRIVATE\n');
  assert.equal(readFileSync(path(`f.pub.jwk.replaced-${STAMP}`), 'utf8'), 'OLD PUBLIC\n');
  for (const kept of [`f.jwk.replaced-${STAMP}`, `f.pub.jwk.replaced-${STAMP}`]) assert.equal(statSync(path(kept)).mode & 0o777, 0o600, kept);
  assert.match(r.stderr, new RegExp(`old file is kept as .*f\\.jwk\\.replaced-${STAMP}`));
  // the new pair is in place: private 0600, public the one printed
  assert.ok(JSON.parse(readFileSync(path('f.jwk'), 'utf8')).d);
  assert.equal(statSync(path('f.jwk')).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(path('f.pub.jwk'), 'utf8')), out.jwk);

  // a second --force in the same second never replaces the first kept file
  const again = await keygen(['--force', '--now', NOW, '--out', path('f.jwk')]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).oldPrivateKeyFile, path(`f.jwk.replaced-${STAMP}-2`));
  assert.equal(readFileSync(path(`f.jwk.replaced-${STAMP}`), 'utf8'), 'OLD PRIVATE\n');
  assert.deepEqual(JSON.parse(readFileSync(path(`f.jwk.replaced-${STAMP}-2`), 'utf8')).x, JSON.parse(readFileSync(path(`f.pub.jwk`), 'utf8')).x);
});

test('--force without --now names the kept file after the current UTC time', async () => {
  writeFileSync(path('g.jwk'), 'OLD\n', { mode: 0o600 });
  const r = await keygen(['--force', '--out', path('g.jwk')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).oldPrivateKeyFile, /g\.jwk\.replaced-\d{8}T\d{6}Z$/);
});

test('--out and --public-out naming one file are refused, with or without --force', async () => {
  for (const args of [
    ['--out', path('same.jwk'), '--public-out', path('same.jwk')],
    ['--out', path('same.jwk'), '--public-out', join(dir, '.', 'sub', '..', 'same.jwk')],
    ['--force', '--out', path('root.jwk'), '--public-out', path('root.jwk')],
  ]) {
    const r = await keygen(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /--out and --public-out name the same file/);
  }
  // two names (a hard link) of one existing file
  linkSync(path('root.jwk'), path('root-alias.jwk'));
  const key = readFileSync(path('root.jwk'));
  const r = await keygen(['--force', '--out', path('root.jwk'), '--public-out', path('root-alias.jwk')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /name the same file/);
  assert.deepEqual(readFileSync(path('root.jwk')), key);
  assert.ok(!existsSync(path('same.jwk')));
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('root.jwk.replaced-')));
});

test('--force refuses a symbolic link before writing anything (renaming over it would replace the link, not the key)', async () => {
  writeFileSync(path('real.pub.jwk'), 'PUBLIC\n');
  symlinkSync(path('real.pub.jwk'), path('link.pub.jwk'));
  const r = await keygen(['--force', '--out', path('s.jwk'), '--public-out', path('link.pub.jwk')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /link\.pub\.jwk is a symbolic link: not replacing it/);
  assert.ok(!existsSync(path('s.jwk')), 'no private key without its public half');
  assert.equal(readFileSync(path('real.pub.jwk'), 'utf8'), 'PUBLIC\n');
});

test('an empty or whitespace-only passphrase (file or EMBLEM_PASSPHRASE) is refused, nothing is written', async () => {
  for (const [i, content] of ['', '\n', '   \n', '\t\r\n'].entries()) {
    writeFileSync(path(`pass${i}`), content);
    const r = await keygen(['--out', path(`p${i}.jwk`), '--passphrase-file', path(`pass${i}`)]);
    assert.equal(r.code, 2, JSON.stringify(content));
    assert.match(r.stderr, /empty or only whitespace: refusing it as a passphrase/);
    assert.ok(!existsSync(path(`p${i}.jwk`)));
  }
  for (const value of ['', '  ']) {
    const r = await keygen(['--out', path('env.jwk')], { EMBLEM_PASSPHRASE: value });
    assert.equal(r.code, 2, JSON.stringify(value));
    assert.match(r.stderr, /\$EMBLEM_PASSPHRASE is empty or only whitespace/);
    assert.ok(!existsSync(path('env.jwk')));
  }
});

test('--encrypt without a passphrase source, not on a terminal, fails instead of writing an unencrypted key', async () => {
  const r = await keygen(['--encrypt', '--out', path('enc.jwk')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--encrypt needs a passphrase: pass --passphrase-file FILE or set EMBLEM_PASSPHRASE/);
  assert.ok(!existsSync(path('enc.jwk')));
  writeFileSync(path('good-pass'), 'correct horse battery\n');
  const ok = await keygen(['--encrypt', '--passphrase-file', path('good-pass'), '--out', path('enc.jwk')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).encrypted, true);
  assert.equal(readFileSync(path('enc.jwk'), 'utf8').trim().split('.').length, 5);
  assert.equal(ok.stderr, '');
});

test('keygen --help documents --force, the kept NAME.replaced-<UTC time> and --encrypt', async () => {
  const r = await runCli(['keygen', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--force/);
  assert.match(r.stdout, /NAME\.replaced-<UTC time>/);
  assert.match(r.stdout, /--encrypt/);
  assert.match(r.stdout, /empty or whitespace-only passphrase is refused/);
  assert.doesNotMatch(r.stdout, /--now/, 'the test clock stays out of the help');
});
