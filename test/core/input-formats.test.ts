import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinTxtPresentation, parseAdemTxtValue, parseMaterialText } from '../../src/core/index.js';

const JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJ2ZXIiOiJ2MSJ9.c2ln';

test('TXT record keys of every ADEM generation', () => {
  assert.deepEqual(parseAdemTxtValue(`adem-token=${JWS}`), { type: 'token', identifier: null, value: JWS });
  assert.deepEqual(parseAdemTxtValue(`adem-token-set1=${JWS}`), { type: 'token', identifier: 'set1', value: JWS });
  assert.deepEqual(parseAdemTxtValue('adem-key-a={"kty":"EC"}'), { type: 'key', identifier: 'a', value: '{"kty":"EC"}' });
  assert.deepEqual(parseAdemTxtValue(`adem-emb=${JWS}`), { type: 'token', identifier: null, value: JWS });
  assert.deepEqual(parseAdemTxtValue(`adem-end-x=${JWS}`), { type: 'token', identifier: 'x', value: JWS });
  assert.deepEqual(parseAdemTxtValue(`adem=${JWS}`), { type: 'token', identifier: null, value: JWS });
  assert.deepEqual(parseAdemTxtValue('adem-emb-s0-p1=abc'), { type: 'token', identifier: null, value: 'abc', legacy: { sequence: 0, part: 1 } });
  assert.equal(parseAdemTxtValue('v=spf1 -all'), null);
  assert.equal(parseAdemTxtValue('adem-token='), null);
});

test("dig's presentation form: quoted strings joined, escapes decoded", () => {
  assert.equal(joinTxtPresentation('"adem-token=abc" "def"'), 'adem-token=abcdef');
  assert.equal(joinTxtPresentation('"a\\"b" "c\\\\d" "\\065"'), 'a"bc\\dA');
  assert.equal(joinTxtPresentation('plain'), 'plain');
  assert.throws(() => joinTxtPresentation('"unterminated'));
});

test('LEGACY split tokens are joined by part number across lines', () => {
  const { material, errors } = parseMaterialText(['adem-emb-s0-p1=.eyJ2ZXIiOiJ2MSJ9.c2ln', 'adem-emb-s0-p0=eyJhbGciOiJFUzI1NiJ9'].join('\n'));
  assert.deepEqual(errors, []);
  assert.deepEqual(material.map((m) => m.kind === 'jws' && m.text), [JWS]);
});

test('lines of every kind are classified; comments and blanks skipped; junk reported, not fatal', () => {
  const text = [
    '# a comment',
    '',
    JWS,
    `"adem-token=${JWS.slice(0, 10)}" "${JWS.slice(10)}"`,
    '{"kty":"EC","crv":"P-256","x":"a","y":"b"}',
    'D83DD2840102',
    'A10102',
    'not a token',
    '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
  ].join('\n');
  const { material, errors } = parseMaterialText(text, 'f');
  assert.deepEqual(material.map((m) => m.kind).sort(), ['cose-key', 'cwt', 'jwk', 'jws', 'jws', 'spki-pem']);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'INPUT_UNRECOGNIZED');
  assert.match(errors[0]!.message, /^f:8:/);
});
