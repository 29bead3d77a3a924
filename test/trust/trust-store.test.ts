import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { coseKeyMap } from '../../src/core/tokens/keys.js';
import { generateSigningKey } from '../../src/core/tokens/sign.js';
import { encodeCbor } from '../../src/core/tokens/cbor.js';
import { addTrustedKey, parseKeyBytes, readTrustStore, removeTrustedKey, trustStoreKeys } from '../../src/trust/store.js';
import { CLI_SIGNED_AT, CLI_VERIFY_AT, runCli } from '../helpers/cli.js';

let dir: string;
const path = (n: string) => join(dir, n);
const AT = '2026-05-01T00:00:00Z';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-trust-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('file store: add (private JWK reduced to public, COSE_Key CBOR and hex), list, refuse duplicates, remove by kid, cose kid or name', async () => {
  const store = path('store.json');
  const [a, b, c] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES512'), generateSigningKey('ES384')]);
  const ka = await parseKeyBytes(Buffer.from(JSON.stringify(a.privateJwk)), 'a'); // private JWK: the private part is dropped
  assert.equal(ka.jwsKid, a.key.publicKey.jwsKid);
  await addTrustedKey(store, ka, 'Authority A', new Date(AT));
  const coseBytes = encodeCbor(coseKeyMap(b.key.publicKey));
  const kb = await parseKeyBytes(coseBytes, 'b.cose');
  assert.equal(kb.jwsKid, b.key.publicKey.jwsKid);
  await addTrustedKey(store, kb, 'Authority B');
  const kbHex = await parseKeyBytes(Buffer.from(Buffer.from(coseBytes).toString('hex')), 'b.hex');
  assert.equal(kbHex.jwsKid, b.key.publicKey.jwsKid);

  await assert.rejects(addTrustedKey(store, a.key.publicKey, 'Other'), { code: 'TRUST_KEY_EXISTS' });
  await assert.rejects(addTrustedKey(store, c.key.publicKey, 'Authority A'), { code: 'TRUST_NAME_EXISTS' });
  await assert.rejects(addTrustedKey(store, c.key.publicKey, '../evil'), { code: 'USAGE' });

  const s = await readTrustStore(store);
  assert.equal(s.kind, 'file');
  assert.deepEqual(s.keys.map((k) => k.name), ['Authority A', 'Authority B']);
  assert.equal(s.keys[0]!.added, new Date(AT).toISOString());
  assert.equal(s.keys[1]!.coseKid, b.key.publicKey.coseKidText);
  assert.ok(!readFileSync(store, 'utf8').includes('"d"'), 'no private part stored');
  assert.deepEqual((await trustStoreKeys([store])).map((k) => k.jwsKid), [a.key.publicKey.jwsKid, b.key.publicKey.jwsKid]);

  assert.equal((await removeTrustedKey(store, b.key.publicKey.coseKidText)).name, 'Authority B');
  await assert.rejects(removeTrustedKey(store, b.key.publicKey.jwsKid), { code: 'TRUST_KEY_NOT_FOUND' });
  assert.equal((await removeTrustedKey(store, 'Authority A')).kid, a.key.publicKey.jwsKid);
  assert.deepEqual((await readTrustStore(store)).keys, []);
});

test('bad stores are errors with codes; a missing store is an error when reading', async () => {
  await assert.rejects(readTrustStore(path('absent.json')), { code: 'TRUST_STORE_MISSING' });
  writeFileSync(path('bad.json'), 'not json');
  await assert.rejects(readTrustStore(path('bad.json')), { code: 'TRUST_STORE_INVALID' });
  writeFileSync(path('bad2.json'), JSON.stringify({ version: 2, keys: [] }));
  await assert.rejects(readTrustStore(path('bad2.json')), { code: 'TRUST_STORE_INVALID' });
  const k = await generateSigningKey('ES256');
  writeFileSync(path('bad3.json'), JSON.stringify({ version: 1, keys: [{ name: 'x', kid: 'wrong', jwk: k.key.publicKey.jwk }] }));
  await assert.rejects(readTrustStore(path('bad3.json')), { code: 'TRUST_STORE_INVALID' });
  await assert.rejects(parseKeyBytes(Buffer.from('hello'), 'x'), { code: 'KEY_INVALID' });
});

test('folder store: one key file each (JWK, COSE_Key), named by file; add writes NAME.jwk exclusively', async () => {
  const folder = path('folder');
  mkdirSync(folder);
  const [a, b, c] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256'), generateSigningKey('ES256')]);
  writeFileSync(join(folder, 'icrc.jwk'), JSON.stringify(a.key.publicKey.jwk));
  writeFileSync(join(folder, 'state.cose'), encodeCbor(coseKeyMap(b.key.publicKey)));
  writeFileSync(join(folder, 'README.txt'), 'ignored');
  const s = await readTrustStore(folder);
  assert.equal(s.kind, 'folder');
  assert.deepEqual(s.keys.map((k) => [k.name, k.kid]), [['icrc', a.key.publicKey.jwsKid], ['state', b.key.publicKey.jwsKid]]);
  await addTrustedKey(folder, c.key.publicKey, 'society');
  assert.ok(readFileSync(join(folder, 'society.jwk'), 'utf8').includes(c.key.publicKey.jwk.x as string));
  await assert.rejects(addTrustedKey(folder, a.key.publicKey, 'again'), { code: 'TRUST_KEY_EXISTS' });
  await removeTrustedKey(folder, a.key.publicKey.jwsKid);
  assert.deepEqual((await readTrustStore(folder)).keys.map((k) => k.name), ['society', 'state']);
});

test('CLI: trust add/list/remove (--store and positional forms); verify --trust-store acts like --trusted-key', async () => {
  const r0 = await runCli(['keygen', '--alg', 'ES256', '--out', path('e.jwk'), '--public-out', path('e.pub.jwk')]);
  assert.equal(r0.code, 0, r0.stderr);
  const store = path('cli-store.json');
  const add = await runCli(['trust', 'add', '--store', store, '--name', 'Emblem key', '--at', AT, path('e.pub.jwk'), '--json']);
  assert.equal(add.code, 0, add.stderr);
  const kid = JSON.parse(add.stdout).added.kid as string;
  const again = await runCli(['trust', 'add', store, path('e.pub.jwk'), '--label', 'x']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already pins this key/);
  const list = await runCli(['trust', 'list', '--store', store, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).keys.map((k: { name: string; kid: string }) => [k.name, k.kid]), [['Emblem key', kid]]);
  const text = await runCli(['trust', 'list', store]);
  assert.match(text.stdout, new RegExp(`${kid}.*Emblem key`));

  const sig = await runCli(['sign', 'emblem', '--key', path('e.jwk'), '--asset', 'hospital.example', '--at', CLI_SIGNED_AT]);
  assert.equal(sig.code, 0, sig.stderr);
  writeFileSync(path('set.txt'), `${sig.stdout.trim()}\n${readFileSync(path('e.pub.jwk'), 'utf8').trim()}\n`);
  const untrusted = await runCli(['verify', '--json', '--skip-commitment-check', '--at', CLI_VERIFY_AT, path('set.txt')]);
  assert.deepEqual(JSON.parse(untrusted.stdout).result, ['SIGNED-UNTRUSTED']);
  const trusted = await runCli(['verify', '--json', '--skip-commitment-check', '--at', CLI_VERIFY_AT, '--trust-store', store, path('set.txt')]);
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.deepEqual(JSON.parse(trusted.stdout).result, ['SIGNED-TRUSTED']);
  const missing = await runCli(['verify', '--json', '--skip-commitment-check', '--at', CLI_VERIFY_AT, '--trust-store', path('nope.json'), path('set.txt')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /TRUST_STORE_MISSING|does not exist/);

  const rm = await runCli(['trust', 'remove', '--store', store, kid]);
  assert.equal(rm.code, 0, rm.stderr);
  const rm2 = await runCli(['trust', 'remove', store, kid]);
  assert.equal(rm2.code, 2);
  const after = await runCli(['verify', '--json', '--skip-commitment-check', '--at', CLI_VERIFY_AT, '--trust-store', store, path('set.txt')]);
  assert.deepEqual(JSON.parse(after.stdout).result, ['SIGNED-UNTRUSTED']);
  const help = await runCli(['trust', '--help']);
  assert.match(help.stdout, /trust store/);
});
