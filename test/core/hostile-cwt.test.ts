/**
 * Hostile input, CWT-specific structure (CORE-02, SPEC-NOTES §5.3): tags, headers, duplicate keys, trailing bytes,
 * forbidden claims, kid length, prp range, log entries. Each crafted token is properly signed, so the named defect
 * is the only one; each asserts the exact error code from the parser and INVALID from verification.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmblemError } from '../../src/core/errors.js';
import { hexEncode } from '../../src/core/encoding.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import type { SigningKey } from '../../src/core/tokens/sign.js';
import {
  assertHasCode,
  cborEncode,
  codes,
  craftCwt,
  cwtEmblemClaims,
  cwtEndorsementClaims,
  cwtHeader,
  cwtItem,
  keyItems,
  makeKeys,
  rawCborMap,
  Tagged,
  validity,
  verify,
} from '../helpers/tokens.js';

const [E, R] = (await makeKeys(2, 'ES256')) as [SigningKey, SigningKey];
const [E512] = (await makeKeys(1, 'ES512')) as [SigningKey];

/** An emblem without `iss`: alone, it verifies to SIGNED-UNTRUSTED, so any failure is the crafted defect's. */
function lone(extra: Array<[unknown, unknown]> = []): Map<unknown, unknown> {
  const claims = cwtEmblemClaims(extra);
  claims.delete(1);
  return claims;
}

const LOG_ID = new Uint8Array(32).fill(1);
const LEAF = new Uint8Array(32).fill(2);

/** The parser rejects the token with `code`, and verification reports INVALID with that code. */
async function expectRejected(bytes: Uint8Array, code: string, signer: SigningKey = E): Promise<void> {
  assert.throws(
    () => parseCwtToken(bytes),
    (err: unknown) => err instanceof EmblemError && err.code === code,
    `expected ${code}`,
  );
  const report = await verify([cwtItem(bytes), ...keyItems(signer, R)]);
  assert.deepEqual(report.result, ['INVALID'], JSON.stringify(report.errors));
  assert.ok(codes(report).includes(code), JSON.stringify(report.errors));
}

async function expectAccepted(bytes: Uint8Array, signer: SigningKey = E): Promise<void> {
  const report = await verify([cwtItem(bytes), ...keyItems(signer)]);
  assert.deepEqual(report.result, ['SIGNED-UNTRUSTED'], JSON.stringify(report.errors));
}

describe('hostile CWT: tags', () => {
  it('control: 61(18([...])) verifies', async () => {
    await expectAccepted(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E }));
  });
  it('missing tag 61 (bare COSE_Sign1 tag 18, as in the 17 Sep preview) is accepted', async () => {
    await expectAccepted(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [18] }));
  });
  it('ES512 without tag 61 is accepted too', async () => {
    await expectAccepted(await craftCwt({ header: cwtHeader(E512), claims: lone(), signer: E512, tags: [18] }), E512);
  });
  it('no tags at all -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [] }), 'TOKEN_MALFORMED');
  });
  it('tag 61 without tag 18 -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [61] }), 'TOKEN_MALFORMED');
  });
  it('COSE_Mac0 (17) instead of COSE_Sign1 -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [61, 17] }), 'TOKEN_MALFORMED');
  });
  it('COSE_Sign (98) -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [98] }), 'TOKEN_MALFORMED');
  });
  it('tags in the wrong order 18(61(...)) -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [18, 61] }), 'TOKEN_MALFORMED');
  });
  it('tag 61 twice -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, tags: [61, 61, 18] }), 'TOKEN_MALFORMED');
  });
});

describe('hostile CWT: COSE_Sign1 structure and headers', () => {
  it('non-empty unprotected header (kid moved there) -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, unprotected: new Map([[4, E.publicKey.coseKid]]) }), 'HEADER_INVALID');
  });
  it('non-empty unprotected header (alg there) -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, unprotected: new Map([[1, -7]]) }), 'HEADER_INVALID');
  });
  it('unprotected header that is not a map -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, unprotected: [] }), 'HEADER_INVALID');
  });
  it('31-byte kid -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[4, E.publicKey.coseKid.subarray(0, 31)]]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('33-byte kid -> HEADER_INVALID', async () => {
    const kid = new Uint8Array(33);
    kid.set(E.publicKey.coseKid);
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[4, kid]]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('kid as text (base32) instead of bytes -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[4, E.publicKey.coseKidText]]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('no kid -> HEADER_INVALID', async () => {
    const header = cwtHeader(E);
    header.delete(4);
    await expectRejected(await craftCwt({ header, claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('no alg -> ALGORITHM_UNSUPPORTED', async () => {
    const header = cwtHeader(E);
    header.delete(1);
    await expectRejected(await craftCwt({ header, claims: lone(), signer: E }), 'ALGORITHM_UNSUPPORTED');
  });
  it('wrong typ -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[16, 'application/cwt']]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('unknown protected header parameter (x5chain 33) -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[33, new Uint8Array(3)]]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('crit naming an unknown parameter -> HEADER_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E, [[2, [99]]]), claims: lone(), signer: E }), 'HEADER_INVALID');
  });
  it('duplicate key in the protected header (alg twice) -> TOKEN_MALFORMED', async () => {
    const header = rawCborMap([[1, -7], [4, E.publicKey.coseKid], [1, -36]]);
    await expectRejected(await craftCwt({ header, claims: lone(), signer: E }), 'TOKEN_MALFORMED');
  });
  it('duplicate key in the claims (prp twice) -> TOKEN_MALFORMED', async () => {
    const t = validity();
    const claims = rawCborMap([['ver', 1], [4, t.exp], [5, t.nbf], ['prp', 1], ['assets', ['example.org']], ['prp', 31]]);
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims, signer: E }), 'TOKEN_MALFORMED');
  });
  it('duplicate key in the claims (exp twice, the second extending the lifetime) -> TOKEN_MALFORMED', async () => {
    const t = validity();
    const claims = rawCborMap([['ver', 1], [4, t.exp], [5, t.nbf], ['prp', 1], ['assets', ['example.org']], [4, t.exp + 10 ** 8]]);
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims, signer: E }), 'TOKEN_MALFORMED');
  });
  it('trailing bytes after the CWT -> TOKEN_MALFORMED', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, trailing: Uint8Array.of(0x00) }), 'TOKEN_MALFORMED');
  });
  it('trailing bytes inside the claims bstr -> TOKEN_MALFORMED', async () => {
    const claims = cborEncode(lone());
    const padded = new Uint8Array(claims.length + 1);
    padded.set(claims);
    padded[claims.length] = 0xf6; // null
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: padded, signer: E }), 'TOKEN_MALFORMED');
  });
  it('trailing bytes in a hex CWT line are still rejected after parseMaterialText', async () => {
    const bytes = await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, trailing: Uint8Array.of(0xa0) });
    const parsed = parseMaterialText(`${hexEncode(bytes, true)}\n`);
    assert.equal(parsed.material.length, 1);
    const report = await verify([...parsed.material, ...keyItems(E)]);
    assert.deepEqual(report.result, ['INVALID']);
    assertHasCode(report, 'TOKEN_MALFORMED');
  });
  it('a five-element COSE_Sign1 -> TOKEN_MALFORMED', async () => {
    const good = parseCwtToken(await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E }));
    const bytes = cborEncode(new Tagged(61, new Tagged(18, [cborEncode(cwtHeader(E)), new Map(), cborEncode(lone()), good.signature, new Uint8Array(0)])));
    await expectRejected(bytes, 'TOKEN_MALFORMED');
  });
  it('detached payload (nil) -> TOKEN_MALFORMED', async () => {
    const bytes = cborEncode(new Tagged(61, new Tagged(18, [cborEncode(cwtHeader(E)), new Map(), null, new Uint8Array(64)])));
    await expectRejected(bytes, 'TOKEN_MALFORMED');
  });
  it('empty signature -> TOKEN_UNSIGNED, UNSIGNED', async () => {
    const bytes = await craftCwt({ header: cwtHeader(E), claims: lone(), signer: E, signature: new Uint8Array(0) });
    assert.throws(() => parseCwtToken(bytes), (err: unknown) => err instanceof EmblemError && err.code === 'TOKEN_UNSIGNED');
    const report = await verify([cwtItem(bytes), ...keyItems(E)]);
    assert.deepEqual(report.result, ['UNSIGNED']);
  });
});

describe('hostile CWT: claims', () => {
  it('"emb" claim (CORE-CWT-A / JWS style) -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['emb', new Map([['prp', ['protective']]])]]), signer: E }), 'CLAIM_INVALID');
  });
  it('text-labelled "iss" -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['iss', 'https://org.example']]), signer: E }), 'CLAIM_INVALID');
  });
  it('text-labelled "exp" instead of label 4 -> CLAIM_INVALID', async () => {
    const claims = lone();
    const exp = claims.get(4);
    claims.delete(4);
    claims.set('exp', exp);
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims, signer: E }), 'CLAIM_INVALID');
  });
  it('aud (3) and cti (7) -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([[3, 'someone']]), signer: E }), 'CLAIM_INVALID');
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([[7, new Uint8Array(8)]]), signer: E }), 'CLAIM_INVALID');
  });
  for (const prp of [0, 32, -1, 1.5, '1', 255]) {
    it(`prp ${JSON.stringify(prp)} -> CLAIM_INVALID`, async () => {
      await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['prp', prp]]), signer: E }), 'CLAIM_INVALID');
    });
  }
  it('prp missing -> CLAIM_INVALID (required in CORE-02)', async () => {
    const claims = lone();
    claims.delete('prp');
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims, signer: E }), 'CLAIM_INVALID');
  });
  it('prp 1 and 31 are the accepted extremes', async () => {
    await expectAccepted(await craftCwt({ header: cwtHeader(E), claims: lone([['prp', 1]]), signer: E }));
    await expectAccepted(await craftCwt({ header: cwtHeader(E), claims: lone([['prp', 31]]), signer: E }));
  });
  it('ver "v1" (JWS style) or 2 -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['ver', 'v1']]), signer: E }), 'CLAIM_INVALID');
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['ver', 2]]), signer: E }), 'CLAIM_INVALID');
  });
  it('both assets and key+end (emblem and endorsement at once) -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(E), claims: lone([['key', R.publicKey.coseKid], ['end', true]]), signer: E }), 'CLAIM_INVALID');
  });
  it('endorsement key of 31 bytes -> CLAIM_INVALID', async () => {
    await expectRejected(await craftCwt({ header: cwtHeader(R), claims: cwtEndorsementClaims(E, [['key', E.publicKey.coseKid.subarray(1)]]), signer: R }), 'CLAIM_INVALID', R);
  });
  it('NumericDate as a float is accepted', async () => {
    const t = validity();
    await expectAccepted(await craftCwt({ header: cwtHeader(E), claims: lone([[4, t.exp + 0.5], [5, t.nbf + 0.25]]), signer: E }));
  });
});

describe('hostile CWT: log entries', () => {
  const withHeaderLog = (log: unknown) => craftCwt({ header: cwtHeader(R, [['log', log]]), claims: cwtEndorsementClaims(E), signer: R });
  const withClaimLog = (log: unknown) => craftCwt({ header: cwtHeader(R), claims: cwtEndorsementClaims(E, [['log', log]]), signer: R });

  it('control: {id, hash} and {id, index} entries parse, in the header and as a claim', async () => {
    for (const make of [withHeaderLog, withClaimLog]) {
      const token = parseCwtToken(await make([new Map<string, unknown>([['id', LOG_ID], ['hash', LEAF]]), new Map<string, unknown>([['id', LOG_ID], ['index', 42]])]));
      assert.equal(token.claims.log?.length, 2);
    }
  });
  for (const [where, make] of [['header', withHeaderLog], ['claim', withClaimLog]] as const) {
    it(`${where}: both hash and index in one entry -> CLAIM_INVALID`, async () => {
      await expectRejected(await make([new Map<string, unknown>([['id', LOG_ID], ['hash', LEAF], ['index', 1]])]), 'CLAIM_INVALID', R);
    });
    it(`${where}: neither hash nor index -> CLAIM_INVALID`, async () => {
      await expectRejected(await make([new Map<string, unknown>([['id', LOG_ID]])]), 'CLAIM_INVALID', R);
    });
    it(`${where}: JWS-era "ver" field in an entry -> CLAIM_INVALID`, async () => {
      await expectRejected(await make([new Map<string, unknown>([['ver', 'v1'], ['id', LOG_ID], ['hash', LEAF]])]), 'CLAIM_INVALID', R);
    });
    it(`${where}: 31-byte log id / hash -> CLAIM_INVALID`, async () => {
      await expectRejected(await make([new Map<string, unknown>([['id', LOG_ID.subarray(1)], ['hash', LEAF]])]), 'CLAIM_INVALID', R);
      await expectRejected(await make([new Map<string, unknown>([['id', LOG_ID], ['hash', LEAF.subarray(1)]])]), 'CLAIM_INVALID', R);
    });
    it(`${where}: negative index -> CLAIM_INVALID`, async () => {
      await expectRejected(await make([new Map<string, unknown>([['id', LOG_ID], ['index', -1]])]), 'CLAIM_INVALID', R);
    });
    it(`${where}: more than 16 entries -> LIMIT_EXCEEDED`, async () => {
      const entries = Array.from({ length: 17 }, (_, i) => new Map<string, unknown>([['id', LOG_ID], ['index', i]]));
      await expectRejected(await make(entries), 'LIMIT_EXCEEDED', R);
    });
  }
  it('log both in the header and as a claim -> CLAIM_INVALID', async () => {
    const entry = [new Map<string, unknown>([['id', LOG_ID], ['hash', LEAF]])];
    const bytes = await craftCwt({ header: cwtHeader(R, [['log', entry]]), claims: cwtEndorsementClaims(E, [['log', entry]]), signer: R });
    await expectRejected(bytes, 'CLAIM_INVALID', R);
  });
  it('log on an emblem -> CLAIM_INVALID', async () => {
    const entry = [new Map<string, unknown>([['id', LOG_ID], ['hash', LEAF]])];
    await expectRejected(await craftCwt({ header: cwtHeader(E, [['log', entry]]), claims: lone(), signer: E }), 'CLAIM_INVALID');
  });
});
