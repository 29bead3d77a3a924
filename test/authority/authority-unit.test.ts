import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson } from '../../src/authority/canonical-json.js';
import { narrowConstraints } from '../../src/authority/narrow.js';
import { Registry, type EndorsementRecord } from '../../src/authority/registry.js';
import { parseRequest, REQUEST_TYPE, type EndorsementRequestBody } from '../../src/authority/request.js';
import { checkRequestProof, signRequestProof } from '../../src/authority/request-proof.js';
import { RESPONSE_TYPE, type EndorsementResponse } from '../../src/authority/response.js';
import { checkFreshness } from '../../src/authority/review.js';
import { generateSigningKey, type SigningKey } from '../../src/core/tokens/sign.js';
import { tempDir } from '../dns/servers.js';

const NOW = Date.parse('2026-11-01T12:00:00Z') / 1000;
const LOG = [{ ver: 'v1' as const, id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }];

function body(key: SigningKey, over: Partial<EndorsementRequestBody> = {}): EndorsementRequestBody {
  return {
    version: 1,
    type: REQUEST_TYPE,
    authority: 'https://authority.example',
    organization: 'https://hospital.example',
    rootKey: { jwk: key.publicKey.jwk as JsonWebKey, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText },
    log: LOG,
    constraints: { assets: ['*.hospital.example'], purposes: ['protective'] },
    contact: 'ops',
    nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA',
    createdAt: new Date(NOW * 1000).toISOString(),
    ...over,
  };
}

test('canonical JSON sorts members at every level', () => {
  assert.equal(canonicalJson({ b: [{ z: 1, a: 'x' }], a: true }), '{"a":true,"b":[{"a":"x","z":1}]}');
  assert.throws(() => canonicalJson({ a: 1.5 }));
});

test('proof of possession: verifies for the key it names, fails when edited or made by another key', async () => {
  const { key } = await generateSigningKey('ES256');
  const { key: other } = await generateSigningKey('ES256');
  const b = body(key);
  const proof = await signRequestProof(b, key);
  const parsed = parseRequest(JSON.stringify({ ...b, proof }));
  assert.equal(await checkRequestProof(parsed.body, parsed.proof, parsed.rootKey), null);
  // Member order in the file does not matter (canonical JSON).
  const reordered = parseRequest(JSON.stringify({ proof, ...Object.fromEntries(Object.entries(b).reverse()) }));
  assert.equal(await checkRequestProof(reordered.body, reordered.proof, reordered.rootKey), null);
  const edited = parseRequest(JSON.stringify({ ...b, constraints: { assets: ['*.example'] }, proof }));
  assert.match((await checkRequestProof(edited.body, edited.proof, edited.rootKey))!, /does not verify/);
  const byOther = await signRequestProof(b, other);
  const p2 = parseRequest(JSON.stringify({ ...b, proof: byOther }));
  assert.match((await checkRequestProof(p2.body, p2.proof, p2.rootKey))!, /names key/);
  // Another key's signature under a header naming the requested key.
  const [, , sig] = byOther.split('.');
  const forged = `${proof.split('.')[0]}..${sig}`;
  const p3 = parseRequest(JSON.stringify({ ...b, proof: forged }));
  assert.match((await checkRequestProof(p3.body, p3.proof, p3.rootKey))!, /does not verify/);
});

test('malformed, oversized, mismatched-kid, expired and replayed requests are errors with codes', async () => {
  const { key } = await generateSigningKey('ES256');
  const b = body(key);
  const proof = await signRequestProof(b, key);
  assert.throws(() => parseRequest('nope'), { code: 'REQUEST_MALFORMED' });
  assert.throws(() => parseRequest(JSON.stringify({ ...b, proof, extra: 1 })), { code: 'REQUEST_MALFORMED' });
  assert.throws(() => parseRequest(JSON.stringify({ ...b, proof, version: 2 })), { code: 'REQUEST_MALFORMED' });
  assert.throws(() => parseRequest(JSON.stringify({ ...b, proof, rootKey: { ...b.rootKey, kid: 'x' } })), { code: 'REQUEST_MALFORMED' });
  assert.throws(() => parseRequest(JSON.stringify({ ...b, proof, contact: 'x'.repeat(70_000) })), { code: 'LIMIT_EXCEEDED' });
  const parsed = parseRequest(JSON.stringify({ ...b, proof }));
  assert.throws(() => checkFreshness(parsed, { now: NOW + 31 * 86_400, maxAge: 30 * 86_400, nonceSeen: () => false }), { code: 'REQUEST_EXPIRED' });
  assert.throws(() => checkFreshness(parsed, { now: NOW - 86_400, maxAge: 30 * 86_400, nonceSeen: () => false }), { code: 'REQUEST_FROM_FUTURE' });
  assert.throws(() => checkFreshness(parsed, { now: NOW, maxAge: 30 * 86_400, nonceSeen: () => true }), { code: 'NONCE_REPLAYED' });
  checkFreshness(parsed, { now: NOW, maxAge: 30 * 86_400, nonceSeen: () => false });
});

test('grant narrows, never widens', () => {
  const requested = { assets: ['*.hospital.example'], purposes: ['protective' as const], maxLifetime: 30 * 86_400 };
  assert.deepEqual(narrowConstraints(requested, { assets: ['clinic.hospital.example'] }).assets, ['clinic.hospital.example']);
  assert.equal(narrowConstraints(requested, { maxLifetime: 86_400 }).maxLifetime, 86_400);
  assert.deepEqual(narrowConstraints(requested, {}), requested);
  assert.throws(() => narrowConstraints(requested, { assets: ['clinic.other.example'] }), { code: 'CONSTRAINT_WIDENED' });
  assert.throws(() => narrowConstraints(requested, { assets: ['*.example'] }), { code: 'CONSTRAINT_WIDENED' });
  assert.throws(() => narrowConstraints(requested, { purposes: ['indicative'] }), { code: 'CONSTRAINT_WIDENED' });
  assert.throws(() => narrowConstraints(requested, { maxLifetime: 31 * 86_400 }), { code: 'CONSTRAINT_WIDENED' });
  // Nothing requested there: any value narrows.
  assert.deepEqual(narrowConstraints({}, { assets: ['a.example'] }).assets, ['a.example']);
});

function record(id: string, over: Partial<EndorsementRecord> = {}): EndorsementRecord {
  return { id, organization: 'https://hospital.example', kid: 'k1', coseKid: 'c1', constraints: {}, issued: NOW, expires: NOW + 100 * 86_400, status: 'active', reason: null, revokedAt: null, issuedFile: `issued/${id}.json`, responseFile: null, requestFile: null, renewedFrom: null, ...over };
}

test('registry: list --expiring, find, revoke; a response written but not recorded (kill -9) is recorded on open', async () => {
  const dir = tempDir('emblem-registry-test-');
  try {
    const reg = Registry.open(dir.path);
    reg.record(record('20261101-aaaaaaaaaaaa'), { now: NOW, nonce: 'n1', action: 'grant' });
    reg.record(record('20261101-bbbbbbbbbbbb', { organization: 'https://school.example', kid: 'k2', coseKid: 'c2', expires: NOW + 10 * 86_400 }), { now: NOW, nonce: 'n2', action: 'grant' });
    assert.equal(reg.nonceSeen('n1'), true);
    assert.throws(() => reg.record(record('20261101-cccccccccccc'), { now: NOW, nonce: 'n1', action: 'grant' }));
    assert.equal(reg.get('20261101-cccccccccccc'), null, 'the failed transaction left no row');
    assert.deepEqual(reg.list({ expiringBefore: NOW + 30 * 86_400 }).map((r) => r.kid), ['k2']);
    assert.deepEqual(reg.find('school.example').map((r) => r.id), ['20261101-bbbbbbbbbbbb']);
    assert.deepEqual(reg.find('k1').map((r) => r.id), ['20261101-aaaaaaaaaaaa']);
    assert.deepEqual(reg.revoke('k2', 'test', NOW).map((r) => r.status), ['revoked']);
    assert.equal(reg.list({ expiringBefore: NOW + 30 * 86_400 }).length, 0, 'revoked: not due for renewal');
    reg.close();

    // A renewal of k1 written to issued/ but killed before its row was committed.
    const { key } = await generateSigningKey('ES256');
    const response: EndorsementResponse = {
      version: 1, type: RESPONSE_TYPE, id: '20261201-dddddddddddd', authority: 'https://authority.example', organization: 'https://hospital.example',
      kid: 'k1', coseKid: 'c1', constraints: {}, issued: new Date((NOW + 90 * 86_400) * 1000).toISOString(), expires: new Date((NOW + 190 * 86_400) * 1000).toISOString(),
      authorityKey: key.publicKey.jwk as JsonWebKey, endorsements: { jws: 'a.b.c' }, renewedFrom: '20261101-aaaaaaaaaaaa',
    };
    mkdirSync(join(dir.path, 'issued'));
    writeFileSync(join(dir.path, 'issued', `${response.id}.json`), JSON.stringify(response));
    const again = Registry.open(dir.path, { now: NOW + 90 * 86_400 });
    assert.equal(again.get(response.id)?.status, 'active', 'recovered');
    assert.equal(again.get('20261101-aaaaaaaaaaaa')?.status, 'superseded');
    assert.equal(again.list().length, 3);
    again.close();
  } finally {
    dir.remove();
  }
});
