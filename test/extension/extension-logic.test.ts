/**
 * The extension's own logic outside the browser: trust store import/export in the CLI's exact format, the badge
 * for each check status, and the order in which the popup draws a chain.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { badgeFor } from '../../extension/src/badge.js';
import { importTrustMaterial } from '../../extension/src/trust-import.js';
import { chainOf, type HostCheck } from '../../src/browser/host-check.js';
import { EmblemError } from '../../src/core/errors.js';
import type { Material } from '../../src/core/material/material.js';
import { generateSigningKey, signToken } from '../../src/core/tokens/sign.js';
import { addTrustedKey, readTrustStore } from '../../src/trust/store.js';
import { serializeTrustStore } from '../../src/trust/store-format.js';
import { DAY, NOW, NOW_S } from '../helpers/tokens.js';
import { SHARED } from '../helpers/cli.js';
import { tempDir } from './harness.js';

describe('trust store import/export (the CLI\'s format)', () => {
  const dir = tempDir('emblem-ext-trust-');
  after(() => dir.remove());

  it('imports a store written by the CLI code and exports the same bytes', async () => {
    const file = join(dir.path, 'trust.json');
    const [a, b] = await Promise.all([generateSigningKey('ES512'), generateSigningKey('ES256')]);
    await addTrustedKey(file, a.key.publicKey, 'authority one', NOW);
    await addTrustedKey(file, b.key.publicKey, 'authority two', NOW);
    const text = readFileSync(file, 'utf8');
    const imported = await importTrustMaterial([], text, '', NOW);
    assert.deepEqual(imported.keys, (await readTrustStore(file)).keys);
    assert.equal(serializeTrustStore(imported.keys), text);
    // Importing again changes nothing: pinned keys are skipped, never duplicated.
    const again = await importTrustMaterial(imported.keys, text, '', NOW);
    assert.equal(again.keys.length, 2);
    assert.equal(again.skipped.length, 2);
  });

  it('pins a single JWK (private members dropped) or PEM key under a name, and refuses name clashes', async () => {
    const { privateJwk, key } = await generateSigningKey('ES256');
    const r = await importTrustMaterial([], JSON.stringify(privateJwk), 'my authority', NOW);
    assert.equal(r.keys[0]!.kid, key.publicKey.jwsKid);
    assert.equal('d' in r.keys[0]!.jwk, false);
    assert.equal(r.keys[0]!.added, NOW.toISOString());
    const pem = readFileSync(join(SHARED, 'interop', 'tokens', 'auth.felixlinker.de.pub.pem'), 'utf8');
    const withPem = await importTrustMaterial(r.keys, pem, 'felixlinker', NOW);
    assert.equal(withPem.keys.length, 2);
    const other = await generateSigningKey('ES256');
    await assert.rejects(importTrustMaterial(r.keys, JSON.stringify(other.key.publicKey.jwk), 'my authority', NOW), (e: EmblemError) => e.code === 'TRUST_NAME_EXISTS');
    await assert.rejects(importTrustMaterial([], JSON.stringify(other.key.publicKey.jwk), '../bad/name', NOW), (e: EmblemError) => e.code === 'USAGE');
    await assert.rejects(importTrustMaterial([], 'hello', 'x', NOW), (e: EmblemError) => e.code === 'KEY_INVALID');
    await assert.rejects(importTrustMaterial([], '{"version": 1, "keys": [{"name": "x"}]}', '', NOW), (e: EmblemError) => e.code === 'TRUST_STORE_INVALID');
  });
});

describe('badge', () => {
  const result = (status: HostCheck['status'], level: HostCheck['level'] = null): HostCheck => ({ target: 'a.example', status, level, sets: [], discovery: null, errors: status === 'error' ? [{ code: 'DNS_TIMEOUT', message: 'x' }] : [], chain: [] });
  it('shows the level, trust, unchecked commitments and failures at a glance', () => {
    assert.deepEqual(badgeFor('off', undefined).text, '');
    assert.deepEqual(badgeFor('checking', undefined).text, '…');
    assert.deepEqual([badgeFor('done', result('protected', 'ENDORSED-TRUSTED')).text, badgeFor('done', result('protected', 'ENDORSED-TRUSTED')).color], ['END', '#1a7f37']);
    assert.deepEqual([badgeFor('done', result('protected', 'ORGANIZATIONAL-UNTRUSTED')).text, badgeFor('done', result('protected', 'ORGANIZATIONAL-UNTRUSTED')).color], ['ORG', '#9a6700']);
    assert.equal(badgeFor('done', result('indeterminate', 'SIGNED-UNTRUSTED')).text, 'SIG?');
    assert.equal(badgeFor('done', result('invalid')).text, 'INV');
    assert.equal(badgeFor('done', result('expired')).text, 'INV');
    assert.equal(badgeFor('done', result('no-emblem')).text, '');
    assert.equal(badgeFor('done', result('nxdomain')).text, '');
    assert.equal(badgeFor('done', result('not-covered', 'SIGNED-UNTRUSTED')).text, 'N/C');
    const error = badgeFor('done', result('error'));
    assert.equal(error.text, 'ERR');
    assert.match(error.title, /DNS_TIMEOUT.*not checked/);
  });
});

describe('chain drawing order', () => {
  it('orders the tokens emblem -> internal endorsement -> authority, whatever the record order', async () => {
    const [authority, root, emblemKey] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256'), generateSigningKey('ES256')]).then((ks) => ks.map((k) => k.key));
    const times = { iat: NOW_S, nbf: NOW_S, exp: NOW_S + DAY };
    const emblem = await signToken('jws', 'emblem', { ...times, iss: 'https://org.example', assets: ['a.org.example'] }, emblemKey!);
    const internal = await signToken('jws', 'endorsement', { ...times, iss: 'https://org.example', sub: 'https://org.example', endorse: emblemKey!.publicKey, end: false }, root!);
    const external = await signToken('jws', 'endorsement', { ...times, iss: 'https://authority.example', sub: 'https://org.example', endorse: root!.publicKey, end: true }, authority!);
    const material: Material[] = [external, emblem, internal].map((t) => ({ kind: 'jws', text: t.text }));
    const chain = chainOf([...material, { kind: 'jws', text: 'not.a.token' }]);
    assert.deepEqual(chain.map((c) => [c.kind, c.issuer, c.signerKid]), [
      ['emblem', 'https://org.example', emblemKey!.publicKey.jwsKid],
      ['endorsement', 'https://org.example', root!.publicKey.jwsKid],
      ['endorsement', 'https://authority.example', authority!.publicKey.jwsKid],
    ]);
    assert.equal(chain[1]!.endorsedKid, emblemKey!.publicKey.jwsKid);
    assert.equal(chain[0]!.expires, new Date((NOW_S + DAY) * 1000).toISOString());
  });
});
