import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepOldFile, replacedFileName, replacedTimestamp, writeFileKeepingOld } from '../../src/store/replace-file.js';
import { writeFileAtomicExclusive } from '../../src/store/atomic-write.js';
import { readPrivateKeyFile, writePrivateKeyFile } from '../../src/store/key-file.js';
import { EmblemError } from '../../src/core/errors.js';

/** The store layer under the CLI's "never lose a key": exclusive creation, and replacement that keeps the old file. */

// An injected clock: nothing here reads the wall clock.
const NOW = new Date('2031-02-03T04:05:06.789Z');
let dir: string;
const path = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-replace-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return 'accepted';
  } catch (err) {
    return (err as EmblemError).code ?? (err as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

test('the kept file is named NAME.replaced-<ISO 8601 basic UTC time>', () => {
  assert.equal(replacedTimestamp(NOW), '20310203T040506Z');
  assert.equal(replacedFileName('/k/root.jwk', NOW), '/k/root.jwk.replaced-20310203T040506Z');
  assert.equal(replacedFileName('/k/root.jwk', NOW, 3), '/k/root.jwk.replaced-20310203T040506Z-3');
  // UTC, whatever the offset the time was written with
  assert.equal(replacedTimestamp(new Date('2031-02-03T23:30:00-02:00')), '20310204T013000Z');
});

test('without replace an existing file is FILE_EXISTS and stays byte-identical', async () => {
  writeFileSync(path('a.jwk'), 'OLD KEY\n', { mode: 0o600 });
  assert.equal(await codeOf(() => writeFileKeepingOld(path('a.jwk'), 'NEW', { mode: 0o600, now: NOW })), 'FILE_EXISTS');
  assert.equal(readFileSync(path('a.jwk'), 'utf8'), 'OLD KEY\n');
  // a dangling symbolic link counts as existing too: creating through it could write anywhere
  symlinkSync(path('nowhere'), path('link.jwk'));
  assert.equal(await codeOf(() => writeFileAtomicExclusive(path('link.jwk'), 'NEW')), 'EEXIST');
  assert.ok(lstatSync(path('link.jwk')).isSymbolicLink());
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
});

test('a new file is created with the requested mode', async () => {
  assert.deepEqual(await writeFileKeepingOld(path('fresh.jwk'), 'K', { mode: 0o600, now: NOW }), {});
  assert.equal(statSync(path('fresh.jwk')).mode & 0o777, 0o600);
});

test('replace keeps the old content as NAME.replaced-<time> (0600), then -2, -3 within the same second', async () => {
  writeFileSync(path('b.pub'), 'FIRST\n', { mode: 0o644 });
  const first = await writeFileKeepingOld(path('b.pub'), 'SECOND\n', { mode: 0o644, replace: true, now: NOW });
  assert.equal(first.keptAs, path('b.pub.replaced-20310203T040506Z'));
  assert.equal(readFileSync(first.keptAs!, 'utf8'), 'FIRST\n');
  assert.equal(statSync(first.keptAs!).mode & 0o777, 0o600);
  assert.equal(readFileSync(path('b.pub'), 'utf8'), 'SECOND\n');
  assert.equal(statSync(path('b.pub')).mode & 0o777, 0o644);

  const second = await writeFileKeepingOld(path('b.pub'), 'THIRD\n', { mode: 0o644, replace: true, now: NOW });
  assert.equal(second.keptAs, path('b.pub.replaced-20310203T040506Z-2'));
  assert.equal(readFileSync(second.keptAs!, 'utf8'), 'SECOND\n');
  assert.equal(readFileSync(first.keptAs!, 'utf8'), 'FIRST\n', 'an earlier kept file is never replaced');
  assert.equal(readFileSync(path('b.pub'), 'utf8'), 'THIRD\n');
});

test('replace of a missing file just writes it; a symbolic link or a directory is refused', async () => {
  assert.deepEqual(await writeFileKeepingOld(path('c.jwk'), 'C', { mode: 0o600, replace: true, now: NOW }), {});
  assert.equal(await keepOldFile(path('never-there'), NOW), undefined);
  writeFileSync(path('target.jwk'), 'TARGET');
  symlinkSync(path('target.jwk'), path('alias.jwk'));
  assert.equal(await codeOf(() => writeFileKeepingOld(path('alias.jwk'), 'X', { mode: 0o600, replace: true, now: NOW })), 'USAGE');
  assert.equal(readFileSync(path('target.jwk'), 'utf8'), 'TARGET');
  assert.ok(lstatSync(path('alias.jwk')).isSymbolicLink());
  assert.equal(await codeOf(() => writeFileKeepingOld(dir, 'X', { mode: 0o600, replace: true, now: NOW })), 'USAGE');
});

test('writePrivateKeyFile: exclusive by default, keeps the old key on replace, refuses an empty passphrase', async () => {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd' } as JsonWebKey;
  assert.deepEqual(await writePrivateKeyFile(path('k.jwk'), jwk), { encrypted: false });
  assert.equal(await codeOf(() => writePrivateKeyFile(path('k.jwk'), jwk)), 'FILE_EXISTS');
  const before = readFileSync(path('k.jwk'));
  const replaced = await writePrivateKeyFile(path('k.jwk'), jwk, 'a passphrase', { replace: true, now: NOW });
  assert.deepEqual(replaced, { encrypted: true, keptAs: path('k.jwk.replaced-20310203T040506Z') });
  assert.deepEqual(readFileSync(replaced.keptAs!), before);
  assert.deepEqual(await readPrivateKeyFile(path('k.jwk'), 'a passphrase'), jwk);
  for (const empty of ['', ' ', '\n', '\t \r\n']) {
    assert.equal(await codeOf(() => writePrivateKeyFile(path(`e${empty.length}.jwk`), jwk, empty)), 'USAGE', JSON.stringify(empty));
    assert.throws(() => statSync(path(`e${empty.length}.jwk`)), /ENOENT/);
  }
});

test('a key file larger than any key is refused without reading it whole', async () => {
  writeFileSync(path('huge.jwk'), `{${' '.repeat(200_000)}}`);
  assert.equal(await codeOf(() => readPrivateKeyFile(path('huge.jwk'))), 'KEY_INVALID');
});
