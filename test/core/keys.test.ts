import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALGORITHMS, coseKeyMap, coseKeyThumbprint, hexDecode, hexEncode, parseCoseKey, parsePublicJwk, parsePublicKeyPem,
  generateSigningKey, EmblemError,
} from '../../src/core/index.js';
import { decodeCbor, encodeCbor } from '../../src/core/tokens/cbor.js';
import { SHARED } from '../helpers/cli.js';

test('RFC 9679 section 6 example: COSE Key thumbprint of the P-256 key', () => {
  const x = hexDecode('65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d');
  const y = hexDecode('1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c');
  assert.equal(hexEncode(coseKeyThumbprint(ALGORITHMS.ES256, x, y)), '496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec');
});

test('JWK thumbprint kid of the deployed keys ignores a supplied kid and alg', async () => {
  const jwk = JSON.parse(readFileSync(join(SHARED, 'interop/certs/emblem.pub.json'), 'utf8'));
  const key = parsePublicJwk({ ...jwk, kid: 'something-else' });
  assert.equal(key.jwsKid, 'emqrrujig34vt7kzvtobvxho75qntgsu6hiij54vasyusuhwgofa');
  const { alg: _alg, ...withoutAlg } = jwk;
  assert.equal(parsePublicJwk(withoutAlg).jwsKid, key.jwsKid);
  const pem = await parsePublicKeyPem(readFileSync(join(SHARED, 'interop/certs/emblem.pub.pem'), 'utf8'));
  assert.equal(pem.jwsKid, key.jwsKid);
  // the two eras' kids for one key differ (SPEC-NOTES §1.9 item 9)
  assert.notEqual(key.coseKidText, key.jwsKid);
  assert.equal(key.coseKidText.length, 52);
});

test('COSE_Key round trip keeps the kid in both eras', async () => {
  for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
    const { key } = await generateSigningKey(alg);
    const decoded = parseCoseKey(decodeCbor(encodeCbor(coseKeyMap(key.publicKey)), 'COSE_Key'));
    assert.equal(decoded.jwsKid, key.publicKey.jwsKid, alg);
    assert.equal(decoded.coseKidText, key.publicKey.coseKidText, alg);
  }
});

test('keys with private material, wrong lengths or mismatched alg are refused', () => {
  const jwk = JSON.parse(readFileSync(join(SHARED, 'interop/certs/emblem.pub.json'), 'utf8'));
  const codeOf = (f: () => unknown) => {
    try {
      f();
      return 'accepted';
    } catch (err) {
      return (err as EmblemError).code;
    }
  };
  assert.equal(codeOf(() => parsePublicJwk({ ...jwk, d: 'AAAA' })), 'KEY_INVALID');
  assert.equal(codeOf(() => parsePublicJwk({ ...jwk, alg: 'ES256' })), 'KEY_INVALID');
  assert.equal(codeOf(() => parsePublicJwk({ ...jwk, x: jwk.x.slice(4) })), 'KEY_INVALID');
  assert.equal(codeOf(() => parsePublicJwk({ ...jwk, kty: 'RSA' })), 'KEY_INVALID');
  assert.equal(codeOf(() => parseCoseKey(new Map<number, unknown>([[1, 2], [-1, 1]]))), 'ALGORITHM_UNSUPPORTED');
});
