import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseRequest, REQUEST_TYPE, type EndorsementRequestBody } from '../../src/authority/request.js';
import { checkRequestProof, signRequestProof } from '../../src/authority/request-proof.js';
import { parseResponse, RESPONSE_TYPE } from '../../src/authority/response.js';
import { cwtUnsupported } from '../../src/authority/review.js';
import { generateSigningKey } from '../../src/core/tokens/sign.js';

const NOW = Date.parse('2026-11-01T12:00:00Z') / 1000;
const LOG = [{ ver: 'v1' as const, id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }];

test('request eras: absent = jws; listed ones parsed and covered by the proof; bad lists are REQUEST_MALFORMED', async () => {
  const { key } = await generateSigningKey('ES256');
  const body: EndorsementRequestBody = {
    version: 1, type: REQUEST_TYPE, authority: 'https://authority.example', organization: 'https://hospital.example',
    rootKey: { jwk: key.publicKey.jwk as JsonWebKey, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText },
    log: LOG, constraints: { purposes: ['protective'] }, contact: '', nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA', createdAt: new Date(NOW * 1000).toISOString(),
  };
  const old = parseRequest(JSON.stringify({ ...body, proof: await signRequestProof(body, key) }));
  assert.deepEqual(old.eras, ['jws']);
  const both = { ...body, eras: ['jws', 'cwt'] as Array<'jws' | 'cwt'> };
  const proof = await signRequestProof(both, key);
  const parsed = parseRequest(JSON.stringify({ ...both, proof }));
  assert.deepEqual(parsed.eras, ['jws', 'cwt']);
  assert.equal(await checkRequestProof(parsed.body, parsed.proof, parsed.rootKey), null);
  // Dropping the CWT era after signing breaks the proof.
  const edited = parseRequest(JSON.stringify({ ...both, eras: ['jws'], proof }));
  assert.notEqual(await checkRequestProof(edited.body, edited.proof, edited.rootKey), null);
  for (const eras of [[], ['jws', 'jws'], ['x'], 'cwt']) {
    assert.throws(() => parseRequest(JSON.stringify({ ...body, eras, proof })), (e: Error & { code?: string }) => e.code === 'REQUEST_MALFORMED');
  }
});

test('cwtUnsupported: asset constraints and wnd are lost in the CWT era only; purposes are not', () => {
  assert.equal(cwtUnsupported(['jws'], { assets: ['*.hospital.example'], maxLifetime: 60 }), null);
  assert.equal(cwtUnsupported(['jws', 'cwt'], { purposes: ['protective'] }), null);
  assert.match(cwtUnsupported(['cwt'], { assets: ['*.hospital.example'] })!, /asset constraints \(\*\.hospital\.example\).*will not enforce/);
  assert.match(cwtUnsupported(['jws', 'cwt'], { maxLifetime: 60 })!, /wnd/);
});

test('response: endorsements.cwt must be lower-case hex', async () => {
  const { key } = await generateSigningKey('ES256');
  const base = {
    version: 1, type: RESPONSE_TYPE, id: '20261101-abcdef012345', authority: 'https://authority.example', organization: 'https://hospital.example',
    kid: 'k', coseKid: 'c', constraints: {}, issued: '2026-11-01T12:00:00.000Z', expires: '2027-11-01T12:00:00.000Z', authorityKey: key.publicKey.jwk,
  };
  assert.equal(parseResponse(JSON.stringify({ ...base, endorsements: { jws: 'a.b.c', cwt: 'd83d' } })).endorsements.cwt, 'd83d');
  assert.throws(() => parseResponse(JSON.stringify({ ...base, endorsements: { jws: 'a.b.c', cwt: 'xyz' } })), (e: Error & { code?: string }) => e.code === 'RESPONSE_MALFORMED');
});
