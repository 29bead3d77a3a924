/**
 * Hostile input, size and shape (issue 2, acceptance 5): a 1 MB garbage line, 10,000 garbage lines (through the
 * CLI and the core parser), absurd nesting in JSON and CBOR, oversized tokens, too many tokens, keys, assets, log
 * entries and lines. Each ends with INVALID or a clear error code, never a crash; no timing asserts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmblemError } from '../../src/core/errors.js';
import { base64urlEncode, hexEncode, utf8Encode } from '../../src/core/encoding.js';
import { Limits } from '../../src/core/limits.js';
import type { Material } from '../../src/core/material/material.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { decodeCbor } from '../../src/core/tokens/cbor.js';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { signJws, type SigningKey } from '../../src/core/tokens/sign.js';
import { runCli } from '../helpers/cli.js';
import {
  assertHasCode,
  AUTHORITY,
  b64json,
  cborEncode,
  codes,
  craftCwt,
  craftJws,
  cwtEmblemClaims,
  cwtHeader,
  emblemSpec,
  endorsementSpec,
  NOW,
  NOW_S,
  jwsEmblemPayload,
  jwsItem,
  keyItems,
  makeKeys,
  ORG,
  verify,
} from '../helpers/tokens.js';

const [E, R, A] = (await makeKeys(3, 'ES256')) as [SigningKey, SigningKey, SigningKey];

function assertThrowsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EmblemError, `expected EmblemError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Deterministic garbage (a small LCG), so failures reproduce. */
function garbage(length: number, seed: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_.{}[]":,\\ '): string {
  let x = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out += alphabet[(x >>> 16) % alphabet.length]; // high bits: an LCG's low bits have a short period
  }
  return out;
}

const MB = 1024 * 1024;
const oneMbLine = garbage(MB, 1);
// A leading '~' (in no input alphabet) keeps every line unrecognisable, whatever the random rest happens to spell.
const tenThousandLines = Array.from({ length: 10_000 }, (_, i) => `~${garbage(40 + (i % 60), i + 7)}`).join('\n');
const B64URL = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const tenThousandJwsShaped = Array.from({ length: 10_000 }, (_, i) => `${garbage(30, i, B64URL)}.${garbage(60, i + 1, B64URL)}.${garbage(20, i + 2, B64URL)}`).join('\n');

describe('hostile: garbage input through parseMaterialText', () => {
  it('a 1 MB garbage line -> LIMIT_EXCEEDED, no material', () => {
    const parsed = parseMaterialText(oneMbLine);
    assert.deepEqual(parsed.material, []);
    assert.deepEqual(parsed.errors.map((e) => e.code), ['LIMIT_EXCEEDED']);
  });

  it('a 1 MB line of JWS-alphabet characters is rejected unread as well', () => {
    const parsed = parseMaterialText(garbage(MB, 2, B64URL));
    assert.deepEqual(parsed.material, []);
    assert.deepEqual(parsed.errors.map((e) => e.code), ['LIMIT_EXCEEDED']);
  });

  it('10,000 garbage lines -> INPUT_UNRECOGNIZED, the error list capped at the report limit', () => {
    const parsed = parseMaterialText(tenThousandLines);
    assert.deepEqual(parsed.material, []);
    assert.equal(parsed.errors.length, Limits.maxReportedErrors + 1);
    assert.ok(parsed.errors.slice(0, -1).every((e) => e.code === 'INPUT_UNRECOGNIZED'), 'parsed.errors.slice(0, -1).every((e) => e.code === \'INPUT_UNRECOGNIZED\')');
    assert.equal(parsed.errors.at(-1)!.code, 'LIMIT_EXCEEDED');
  });

  it('10,000 JWS-shaped garbage lines become material whose parsing fails per token, errors bounded', async () => {
    const parsed = parseMaterialText(tenThousandJwsShaped);
    assert.equal(parsed.material.length, 10_000);
    assert.ok(parsed.material.every((m) => m.kind === 'jws'), 'parsed.material.every((m) => m.kind === \'jws\')');
    const report = await verify(parsed.material);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(report.errors.length <= Limits.maxReportedErrors + 1, 'report.errors.length <= Limits.maxReportedErrors + 1');
    assert.equal(report.errors.at(-1)!.code, 'LIMIT_EXCEEDED');
    assertHasCode(report, 'TOKEN_MALFORMED');
  });

  it(`more than ${Limits.maxInputLines} lines -> LIMIT_EXCEEDED, the rest ignored`, () => {
    const parsed = parseMaterialText('\n'.repeat(Limits.maxInputLines + 5));
    assert.deepEqual(parsed.errors.map((e) => e.code), ['LIMIT_EXCEEDED']);
  });

  it('200,000 unterminated PEM "BEGIN PUBLIC KEY" lines -> bounded errors, no PEM material (linear scan)', () => {
    // The lazy PEM regex this replaced rescanned the rest of the input for every BEGIN: quadratic, effectively a hang.
    const parsed = parseMaterialText('-----BEGIN PUBLIC KEY-----\n'.repeat(200_000));
    assert.deepEqual(parsed.material, []);
    assert.equal(parsed.errors.length, Limits.maxReportedErrors + 1);
    assert.equal(parsed.errors.at(-1)!.code, 'LIMIT_EXCEEDED');
  });

  it('PEM blocks are extracted whole and keep later line numbers right', () => {
    const parsed = parseMaterialText('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\ngarbage here\n');
    assert.deepEqual(parsed.material.map((m) => m.kind), ['spki-pem']);
    assert.deepEqual(parsed.errors.map((e) => e.code), ['INPUT_UNRECOGNIZED', 'INPUT_UNRECOGNIZED']);
    assert.match(parsed.errors[0]!.message, /^input:4: /);
    assert.match(parsed.errors[1]!.message, /^input:5: /);
  });

  it('unterminated and malformed dig-quoted TXT lines -> INPUT_UNRECOGNIZED, naming the line', () => {
    const parsed = parseMaterialText('"adem-token=abc\n"a" x "b"\n"\\');
    assert.deepEqual(parsed.material, []);
    assert.deepEqual(parsed.errors.map((e) => e.code), ['INPUT_UNRECOGNIZED', 'INPUT_UNRECOGNIZED', 'INPUT_UNRECOGNIZED']);
    assert.deepEqual(parsed.errors.map((e) => e.message.split(':').slice(0, 2).join(':')), ['input:1', 'input:2', 'input:3']);
  });

  it('binary garbage (invalid UTF-8 decoded leniently by the reader) -> INPUT_UNRECOGNIZED, no material', () => {
    const bytes = Uint8Array.from(garbage(5000, 3), (c) => (c.charCodeAt(0) * 37) & 0xff);
    const parsed = parseMaterialText(Buffer.from(bytes).toString('utf8'));
    assert.deepEqual(parsed.material, []);
    assert.ok(parsed.errors.length > 0 && parsed.errors.every((e) => e.code === 'INPUT_UNRECOGNIZED' || e.code === 'LIMIT_EXCEEDED'), 'parsed.errors.length > 0 && parsed.errors.every((e) => e.code === \'INPUT_UNRECOGNIZED\' || e.code === \'LIMIT_EXCEEDED\')');
  });
});

describe('hostile: garbage input through `emblem verify` (CLI)', { timeout: 120_000 }, () => {
  const verifyCli = (input: string) => runCli(['verify', '--json', '--skip-commitment-check', '--at', NOW.toISOString()], { input, timeoutMs: 110_000 });

  it('a 1 MB garbage line -> exit 1, JSON report INVALID with LIMIT_EXCEEDED and NO_EMBLEM', async () => {
    const { code, stdout, stderr } = await verifyCli(`${oneMbLine}\n`);
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.result, ['INVALID']);
    assert.deepEqual(report.levels, []);
    const errorCodes = report.errors.map((e: { code: string }) => e.code);
    assert.ok(errorCodes.includes('LIMIT_EXCEEDED'), 'errorCodes.includes(\'LIMIT_EXCEEDED\')');
    assert.ok(errorCodes.includes('NO_EMBLEM'), 'errorCodes.includes(\'NO_EMBLEM\')');
    assert.equal(stderr, '');
  });

  it('10,000 garbage lines -> exit 1, JSON report INVALID, errors bounded', async () => {
    const { code, stdout, stderr } = await verifyCli(tenThousandLines);
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(report.errors.length <= Limits.maxReportedErrors + 1, `${report.errors.length} errors`);
    assert.ok(report.errors.some((e: { code: string }) => e.code === 'INPUT_UNRECOGNIZED'), 'report.errors.some((e: { code: string }) => e.code === \'INPUT_UNRECOGNIZED\')');
    assert.equal(stderr, '');
  });

  it('50,000 unterminated PEM BEGIN lines -> exit 1, JSON report INVALID, errors bounded', async () => {
    const { code, stdout, stderr } = await verifyCli('-----BEGIN PUBLIC KEY-----\n'.repeat(50_000));
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(report.errors.length <= Limits.maxReportedErrors + 1, 'report.errors.length <= Limits.maxReportedErrors + 1');
  });

  it('a valid set buried in garbage still verifies (garbage lines are reported, not fatal)', async () => {
    const token = await signJws('emblem', emblemSpec({ iss: undefined }), E, { embedKey: true });
    const input = `${tenThousandLines.split('\n').slice(0, 500).join('\n')}\n${token}\n${oneMbLine}\n`;
    const { code, stdout, stderr } = await verifyCli(input);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.result, ['SIGNED-UNTRUSTED']);
    assert.ok(report.errors.some((e: { code: string }) => e.code === 'INPUT_UNRECOGNIZED'), 'report.errors.some((e: { code: string }) => e.code === \'INPUT_UNRECOGNIZED\')');
    assert.ok(report.errors.some((e: { code: string }) => e.code === 'LIMIT_EXCEEDED'), 'report.errors.some((e: { code: string }) => e.code === \'LIMIT_EXCEEDED\')');
  });
});

describe('hostile: deep nesting', () => {
  const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('JWS payload of 100,000 nested arrays -> LIMIT_EXCEEDED (token size), no stack overflow', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, base64urlEncode(utf8Encode(`{"a":${nestedArrays(100_000)}}`)), E);
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
    const report = await verify([jwsItem(token)]);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'LIMIT_EXCEEDED');
  });

  it('JWS payload nested 5,000 deep within the size limit -> LIMIT_EXCEEDED (nesting depth)', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, base64urlEncode(utf8Encode(`{"a":${nestedArrays(5_000)}}`)), E);
    assert.ok(token.length < Limits.maxTokenBytes, 'token.length < Limits.maxTokenBytes');
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
  });

  it(`JWS header nested ${Limits.maxNestingDepth + 1} objects deep -> LIMIT_EXCEEDED`, async () => {
    let deep: unknown = 1;
    for (let i = 0; i < Limits.maxNestingDepth; i++) deep = { x: deep };
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk, ext: deep }, jwsEmblemPayload(), E);
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
  });

  it('a JWK line nested 30,000 arrays deep (under the line limit) -> KEY_INVALID, no crash', async () => {
    const parsed = parseMaterialText(`{"keys":${nestedArrays(30_000)}}`);
    assert.equal(parsed.material.length, 1);
    const report = await verify(parsed.material);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(codes(report).includes('KEY_INVALID'), JSON.stringify(report.errors));
  });

  it('a CWT of 100,000 nested CBOR arrays -> LIMIT_EXCEEDED (token size)', () => {
    const bytes = new Uint8Array(100_001).fill(0x81);
    bytes[100_000] = 0x80;
    assertThrowsCode(() => parseCwtToken(bytes), 'LIMIT_EXCEEDED');
  });

  it('100,000 nested CBOR arrays fed to the decoder directly -> TOKEN_MALFORMED (the decoder\'s overflow is caught)', () => {
    // cborg decodes recursively; the RangeError is turned into a clear error rather than a crash. See report notes.
    const bytes = new Uint8Array(100_001).fill(0x81);
    bytes[100_000] = 0x80;
    assertThrowsCode(() => decodeCbor(bytes, 'CWT'), 'TOKEN_MALFORMED');
  });

  it('CWT claims nested 1,000 deep (small enough to decode) -> LIMIT_EXCEEDED (nesting depth)', async () => {
    const nested = new Uint8Array(1001).fill(0x81);
    nested[1000] = 0x80;
    const claims = cwtEmblemClaims([['assets', ['example.org']]]);
    const payload = cborEncode(claims);
    // Replace the claims map by [claims..., nested]: a map with one more entry whose value is the deep array.
    const withDeep = new Uint8Array(payload.length + 1 + nested.length);
    withDeep.set(payload);
    withDeep[0] = payload[0]! + 1; // map length + 1 (claims has < 23 entries)
    withDeep[payload.length] = 0x00; // key 0
    withDeep.set(nested, payload.length + 1);
    const bytes = await craftCwt({ header: cwtHeader(E), claims: withDeep, signer: E });
    assertThrowsCode(() => parseCwtToken(bytes), 'LIMIT_EXCEEDED');
  });

  it('a COSE_Key line nested deep -> an EmblemError, no crash', async () => {
    const nested = new Uint8Array(30_001).fill(0x81);
    nested[30_000] = 0x80;
    const map = Uint8Array.of(0xa1, 0x01, ...nested); // {1: [[[...]]]}
    const parsed = parseMaterialText(hexEncode(map));
    assert.deepEqual(parsed.material.map((m) => m.kind), ['cose-key']);
    const report = await verify(parsed.material);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(codes(report).includes('LIMIT_EXCEEDED'), JSON.stringify(report.errors)); // COSE_Key longer than maxKeyBytes
  });
});

describe('hostile: sizes and counts', () => {
  it('an oversized JWS (otherwise well-formed and properly signed) -> LIMIT_EXCEEDED', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, jwsEmblemPayload({ iss: undefined, pad: undefined, assets: ['example.org'], emb: { prp: ['protective'] }, note: 'x'.repeat(Limits.maxTokenBytes) }), E);
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
    const report = await verify([jwsItem(token)]);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'LIMIT_EXCEEDED');
  });

  it('an oversized CWT -> LIMIT_EXCEEDED', async () => {
    const bytes = await craftCwt({ header: cwtHeader(E), claims: cwtEmblemClaims([['assets', Array.from({ length: 200 }, (_, i) => `host-${i}-${'x'.repeat(60)}.example.org`)]]), signer: E });
    assert.ok(bytes.length > Limits.maxTokenBytes, 'bytes.length > Limits.maxTokenBytes');
    assertThrowsCode(() => parseCwtToken(bytes), 'LIMIT_EXCEEDED');
  });

  it(`an emblem with ${Limits.maxAssetsPerToken + 1} assets -> LIMIT_EXCEEDED`, async () => {
    const assets = Array.from({ length: Limits.maxAssetsPerToken + 1 }, (_, i) => `h${i}.example`);
    const token = await signJws('emblem', emblemSpec({ assets }), E);
    assert.ok(token.length < Limits.maxTokenBytes, 'token.length < Limits.maxTokenBytes');
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
  });

  it(`an endorsement with ${Limits.maxLogEntries + 1} log entries -> LIMIT_EXCEEDED`, async () => {
    const log = Array.from({ length: Limits.maxLogEntries + 1 }, (_, i) => ({ ver: 'static' as const, id: new Uint8Array(32), index: i }));
    const token = await signJws('endorsement', endorsementSpec(E, { log }), R);
    assertThrowsCode(() => parseJwsToken(token), 'LIMIT_EXCEEDED');
  });

  it(`an asset identifier longer than ${Limits.maxIdentifierLength} characters -> CLAIM_INVALID`, async () => {
    const token = await signJws('emblem', emblemSpec({ assets: [`${'a'.repeat(60)}.`.repeat(6) + 'example'] }), E);
    assertThrowsCode(() => parseJwsToken(token), 'CLAIM_INVALID');
  });

  const distinctFillers = (count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => signJws('endorsement', endorsementSpec(R, { iss: AUTHORITY, sub: ORG, iat: NOW_S - i }), A)));

  it(`more than ${Limits.maxTokensPerSet} distinct tokens: the whole set is INVALID (LIMIT_EXCEEDED), whatever the order`, async () => {
    const emblem = await signJws('emblem', emblemSpec({ iss: undefined }), E);
    const fillers = (await distinctFillers(Limits.maxTokensPerSet + 20)).map(jwsItem);
    for (const items of [
      [...keyItems(E, A), jwsItem(emblem), ...fillers],
      [jwsItem(emblem), ...fillers, ...keyItems(E, A)],
      [...fillers, jwsItem(emblem), ...keyItems(E, A)],
    ]) {
      const report = await verify(items);
      assert.deepEqual(report.result, ['INVALID'], 'an over-limit set is rejected');
      assertHasCode(report, 'LIMIT_EXCEEDED');
    }
  });

  it('identical tokens count once: a set with its tokens repeated 200 times verifies like the set', async () => {
    const emblem = await signJws('emblem', emblemSpec({ iss: undefined }), E);
    const filler = await signJws('endorsement', endorsementSpec(R, { iss: AUTHORITY, sub: ORG }), A);
    const items: Material[] = [...keyItems(E, A), ...Array.from({ length: 200 }, () => [jwsItem(emblem), jwsItem(filler)]).flat()];
    const report = await verify(items);
    assert.deepEqual(report.result, ['SIGNED-UNTRUSTED'], 'duplicates are not a second emblem');
    assert.ok(!report.errors.some((e) => e.code === 'LIMIT_EXCEEDED' || e.code === 'MULTIPLE_EMBLEMS'), JSON.stringify(report.errors));
  });

  it(`a JWK Set of ${Limits.maxKeysPerSet + 1} keys -> LIMIT_EXCEEDED`, async () => {
    const keys = Array.from({ length: Limits.maxKeysPerSet + 1 }, () => E.publicKey.jwk);
    const report = await verify([{ kind: 'jwk', jwk: { keys } }]);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'LIMIT_EXCEEDED');
  });

  it(`more than ${Limits.maxKeysPerSet} key records -> LIMIT_EXCEEDED, the rest ignored`, async () => {
    const items: Material[] = Array.from({ length: Limits.maxKeysPerSet + 3 }, () => ({ kind: 'jwk', jwk: E.publicKey.jwk }));
    const report = await verify(items);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'LIMIT_EXCEEDED');
  });

  it(`key records past the ${Limits.maxKeysPerSet}-key bound are not even parsed (no per-record import cost)`, async () => {
    // 64 good keys, then garbage PEM blocks: past the bound they are skipped unread, so no KEY_INVALID appears.
    const items: Material[] = [
      ...Array.from({ length: Limits.maxKeysPerSet }, () => ({ kind: 'jwk' as const, jwk: E.publicKey.jwk })),
      ...Array.from({ length: 50 }, () => ({ kind: 'spki-pem' as const, pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })),
    ];
    const report = await verify(items);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'LIMIT_EXCEEDED');
    assert.ok(!codes(report).includes('KEY_INVALID'), JSON.stringify(report.errors.slice(0, 3)));
  });

  it('a JWS with four or two parts -> TOKEN_MALFORMED', async () => {
    const token = await signJws('emblem', emblemSpec(), E);
    assertThrowsCode(() => parseJwsToken(`${token}.x`), 'TOKEN_MALFORMED');
    assertThrowsCode(() => parseJwsToken(token.split('.').slice(0, 2).join('.')), 'TOKEN_MALFORMED');
  });

  it('a JWS header that is JSON but not an object, or not JSON -> TOKEN_MALFORMED', () => {
    for (const header of ['[1]', '"adem"', 'null', '{"a":', '\u00ff']) {
      assertThrowsCode(() => parseJwsToken(`${base64urlEncode(utf8Encode(header))}.${b64json({})}.AAAA`), 'TOKEN_MALFORMED');
    }
  });

  it('a JWS with invalid UTF-8 in the payload -> TOKEN_MALFORMED', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, base64urlEncode(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), E);
    assertThrowsCode(() => parseJwsToken(token), 'TOKEN_MALFORMED');
  });
});
