/**
 * Hostile input, signatures and keys (issue 2, acceptance 5): unsigned tokens, algorithm confusion, algorithm/key
 * mismatches, tampering, wrong kids, and validity periods in both eras. Every case asserts the exact outcome.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { base32LowerNoPadDecode, base64urlDecode, base64urlEncode } from '../../src/core/encoding.js';
import { EmblemError } from '../../src/core/errors.js';
import { sign1SigningInput } from '../../src/core/tokens/cwt.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { signCwt, signJws } from '../../src/core/tokens/sign.js';
import {
  assertHasCode,
  b64json,
  cborEncode,
  codes,
  craftCwt,
  craftJws,
  cwtEmblemClaims,
  cwtHeader,
  cwtItem,
  cwtOrgChain,
  DAY,
  emblemSpec,
  jwsEmblemPayload,
  jwsItem,
  jwsOrgChain,
  keyItem,
  keyItems,
  makeKeys,
  NOW_S,
  rawSign,
  splitJws,
  validity,
  verify,
} from '../helpers/tokens.js';

// Key pairs once per file. ES512 where the deployed form matters (all live deployments use P-521).
const [e256, r256, a256, other256] = await makeKeys(4, 'ES256');
const [e512, r512] = await makeKeys(2, 'ES512');
const chainKeys = { emblem: e256!, root: r256!, authority: a256! };

const INVALID = ['INVALID'];

function assertThrowsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EmblemError, `expected EmblemError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('hostile: alg "none" with a key present', () => {
  for (const variant of ['jwk', 'kid', 'jwk+kid'] as const) {
    it(`alg none, ${variant} in the header, empty signature -> UNSIGNED (TOKEN_UNSIGNED), never a valid level`, async () => {
      const header: Record<string, unknown> = { alg: 'none', cty: 'adem-emb' };
      if (variant.includes('jwk')) header.jwk = e512!.publicKey.jwk;
      if (variant.includes('kid')) header.kid = e512!.publicKey.jwsKid;
      const token = await craftJws(header, jwsEmblemPayload({ iss: undefined }), null);
      assert.ok(token.endsWith('.'), 'crafted with an empty signature');
      assertThrowsCode(() => parseJwsToken(token), 'TOKEN_UNSIGNED');
      const report = await verify([jwsItem(token), keyItem(e512!)]);
      assert.deepEqual(report.result, ['UNSIGNED']);
      assert.deepEqual(report.levels, []);
      assert.deepEqual(report.protected, []);
      assert.ok(codes(report).includes('TOKEN_UNSIGNED'), JSON.stringify(report.errors));
    });
  }

  it('alg none with a (real ES512) signature attached is still TOKEN_UNSIGNED', async () => {
    const real = await signJws('emblem', emblemSpec({ iss: undefined }), e512!, { embedKey: true });
    const { header, parts } = splitJws(real);
    const token = `${b64json({ ...header, alg: 'none' })}.${parts[1]}.${parts[2]}`;
    const report = await verify([jwsItem(token)]);
    assert.deepEqual(report.result, ['UNSIGNED']);
    assertHasCode(report, 'TOKEN_UNSIGNED');
  });

  it('alg "None"/"NONE"/"" and a missing alg are not "none" but unsupported algorithms -> INVALID', async () => {
    for (const alg of ['None', 'NONE', '', undefined, null, 0]) {
      const token = await craftJws({ alg, cty: 'adem-emb', jwk: e256!.publicKey.jwk }, jwsEmblemPayload(), null, { signature: 'AAAA' });
      assertThrowsCode(() => parseJwsToken(token), 'ALGORITHM_UNSUPPORTED');
      const report = await verify([jwsItem(token)]);
      assert.deepEqual(report.result, INVALID, `alg ${JSON.stringify(alg)}`);
      assertHasCode(report, 'ALGORITHM_UNSUPPORTED');
    }
  });

  it('an ES512 header with an empty signature is UNSIGNED, not INVALID or valid', async () => {
    const token = await craftJws({ alg: 'ES512', cty: 'adem-emb', jwk: e512!.publicKey.jwk }, jwsEmblemPayload({ iss: undefined }), null);
    assertThrowsCode(() => parseJwsToken(token), 'TOKEN_UNSIGNED');
    assert.deepEqual((await verify([jwsItem(token)])).result, ['UNSIGNED']);
  });

  it('an unsigned emblem next to a valid endorsement chain is still UNSIGNED', async () => {
    const set = await jwsOrgChain(chainKeys);
    const unsigned = await craftJws({ alg: 'none', cty: 'adem-emb', kid: e256!.publicKey.jwsKid }, jwsEmblemPayload(), null);
    const report = await verify([jwsItem(unsigned), ...set.slice(1)]);
    assert.deepEqual(report.result, ['UNSIGNED']);
    assertHasCode(report, 'TOKEN_UNSIGNED');
  });
});

describe('hostile: HS256 algorithm confusion with the public key as HMAC secret', () => {
  const pub = e512!.publicKey;
  const nodeKey = createPublicKey({ key: { ...pub.jwk, alg: undefined } as never, format: 'jwk' });
  const secrets: Record<string, Buffer> = {
    'SPKI DER': nodeKey.export({ type: 'spki', format: 'der' }),
    'SPKI PEM': Buffer.from(nodeKey.export({ type: 'spki', format: 'pem' }) as string),
    'JWK JSON': Buffer.from(JSON.stringify(pub.jwk)),
    'raw EC point': Buffer.concat([Buffer.from([4]), base64urlDecode(pub.jwk.x), base64urlDecode(pub.jwk.y!)]),
  };
  for (const [name, secret] of Object.entries(secrets)) {
    for (const keyRef of ['jwk', 'kid'] as const) {
      it(`HS256 over a real header naming the ES512 key by ${keyRef}, secret = ${name} -> ALGORITHM_UNSUPPORTED, INVALID`, async () => {
        const header = { alg: 'HS256', cty: 'adem-emb', ...(keyRef === 'jwk' ? { jwk: pub.jwk } : { kid: pub.jwsKid }) };
        const input = `${b64json(header)}.${b64json(jwsEmblemPayload({ iss: undefined }))}`;
        const mac = createHmac('sha256', secret).update(input).digest();
        const token = `${input}.${base64urlEncode(mac)}`;
        assertThrowsCode(() => parseJwsToken(token), 'ALGORITHM_UNSUPPORTED');
        const report = await verify([jwsItem(token), keyItem(e512!)], { trustedKeys: [pub] });
        assert.deepEqual(report.result, INVALID);
        assert.deepEqual(report.levels, []);
        assert.ok(codes(report).includes('ALGORITHM_UNSUPPORTED'), JSON.stringify(report.errors));
      });
    }
  }

  it('other non-ADEM algorithms (HS384/HS512/RS256/PS256/ES256K/EdDSA-variants) are ALGORITHM_UNSUPPORTED', async () => {
    for (const alg of ['HS384', 'HS512', 'RS256', 'PS256', 'ES256K', 'Ed25519', 'es512']) {
      const token = await craftJws({ alg, cty: 'adem-emb', jwk: pub.jwk }, jwsEmblemPayload(), null, { signature: 'AAAA' });
      assertThrowsCode(() => parseJwsToken(token), 'ALGORITHM_UNSUPPORTED');
    }
  });

  it('CWT with an HMAC COSE algorithm (HMAC 256/256 = 5) keyed with the public key -> ALGORITHM_UNSUPPORTED', async () => {
    const header = cwtHeader(e512!);
    header.set(1, 5);
    const token = await craftCwt({ header, claims: cwtEmblemClaims(), signer: e512!, signature: new Uint8Array(32).fill(7) });
    const report = await verify([cwtItem(token), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'ALGORITHM_UNSUPPORTED');
  });
});

describe('hostile: header algorithm does not match the key', () => {
  it('JWS alg ES256 with an embedded P-521 jwk (signed by that key) -> HEADER_INVALID', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: e512!.publicKey.jwk }, jwsEmblemPayload({ iss: undefined }), e512!);
    assertThrowsCode(() => parseJwsToken(token), 'HEADER_INVALID');
    const report = await verify([jwsItem(token)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'HEADER_INVALID');
  });

  it('JWS alg ES512 with an embedded P-256 jwk (signed by that key) -> HEADER_INVALID', async () => {
    const token = await craftJws({ alg: 'ES512', cty: 'adem-emb', jwk: e256!.publicKey.jwk }, jwsEmblemPayload({ iss: undefined }), e256!);
    assertThrowsCode(() => parseJwsToken(token), 'HEADER_INVALID');
    assert.deepEqual((await verify([jwsItem(token)])).result, INVALID);
  });

  it('JWS alg ES256 with a kid naming a P-521 key -> KEY_INVALID at verification, INVALID', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid: e512!.publicKey.jwsKid }, jwsEmblemPayload({ iss: undefined }), e512!);
    parseJwsToken(token); // structurally fine: the key is only known at verification
    const report = await verify([jwsItem(token), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assert.ok(codes(report).includes('KEY_INVALID'), JSON.stringify(report.errors));
  });

  it('JWS alg ES512 with a kid naming a P-256 key -> KEY_INVALID, INVALID', async () => {
    const token = await craftJws({ alg: 'ES512', cty: 'adem-emb', kid: e256!.publicKey.jwsKid }, jwsEmblemPayload({ iss: undefined }), e256!);
    const report = await verify([jwsItem(token), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KEY_INVALID');
  });

  it('JWS embedded jwk whose own "alg" contradicts its curve -> KEY_INVALID', async () => {
    const token = await craftJws({ alg: 'ES512', cty: 'adem-emb', jwk: { ...e512!.publicKey.jwk, alg: 'ES256' } }, jwsEmblemPayload(), e512!);
    assertThrowsCode(() => parseJwsToken(token), 'KEY_INVALID');
  });

  it('CWT alg ES256 (-7) whose kid names a P-521 key -> KEY_INVALID, INVALID', async () => {
    const header = cwtHeader(e512!);
    header.set(1, -7);
    const token = await craftCwt({ header, claims: cwtEmblemClaims(), signer: e512! });
    const report = await verify([cwtItem(token), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assert.ok(codes(report).includes('KEY_INVALID'), JSON.stringify(report.errors));
  });

  it('CWT alg ES512 (-36) whose kid names a P-256 key -> KEY_INVALID, INVALID', async () => {
    const header = cwtHeader(e256!);
    header.set(1, -36);
    const token = await craftCwt({ header, claims: cwtEmblemClaims(), signer: e256! });
    const report = await verify([cwtItem(token), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KEY_INVALID');
  });

  it('control: the same crafted CWT with the right alg verifies (so only the alg was wrong above)', async () => {
    const claims = cwtEmblemClaims();
    claims.delete(1); // no iss: a lone signed emblem
    const lone = await craftCwt({ header: cwtHeader(e512!), claims, signer: e512! });
    assert.deepEqual((await verify([cwtItem(lone), keyItem(e512!)])).result, ['SIGNED-UNTRUSTED']);
  });
});

describe('hostile: tampering', () => {
  it('JWS payload with one claim changed, signature kept -> SIGNATURE_INVALID, INVALID', async () => {
    const token = await signJws('emblem', emblemSpec({ iss: undefined }), e512!);
    const { payload, parts } = splitJws(token);
    const tampered = `${parts[0]}.${b64json({ ...payload, assets: ['attacker.example'] })}.${parts[2]}`;
    const report = await verify([jwsItem(tampered), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assert.deepEqual(report.protected, []);
    assertHasCode(report, 'SIGNATURE_INVALID');
    // control: the untampered token is valid
    assert.deepEqual((await verify([jwsItem(token), keyItem(e512!)])).result, ['SIGNED-UNTRUSTED']);
  });

  it('JWS with a later exp (lifetime extension), signature kept -> SIGNATURE_INVALID', async () => {
    const token = await signJws('emblem', emblemSpec({ iss: undefined }), e256!);
    const { payload, parts } = splitJws(token);
    const tampered = `${parts[0]}.${b64json({ ...payload, exp: (payload.exp as number) + 365 * DAY })}.${parts[2]}`;
    const report = await verify([jwsItem(tampered), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });

  it('JWS with one signature byte flipped -> SIGNATURE_INVALID', async () => {
    const token = await signJws('emblem', emblemSpec({ iss: undefined }), e512!);
    const { parts } = splitJws(token);
    const sig = base64urlDecode(parts[2]);
    sig[10] = sig[10]! ^ 0x01;
    const report = await verify([jwsItem(`${parts[0]}.${parts[1]}.${base64urlEncode(sig)}`), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });

  it('JWS with a truncated signature -> SIGNATURE_INVALID', async () => {
    const token = await signJws('emblem', emblemSpec({ iss: undefined }), e256!);
    const { parts } = splitJws(token);
    const sig = base64urlDecode(parts[2]).subarray(0, 63);
    const report = await verify([jwsItem(`${parts[0]}.${parts[1]}.${base64urlEncode(sig)}`), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });

  it('JWS: a tampered internal endorsement (end flipped) breaks the chain -> INVALID (CHAIN_BROKEN)', async () => {
    const set = await jwsOrgChain(chainKeys);
    const endorsement = (set[1] as { text: string }).text;
    const { payload, parts } = splitJws(endorsement);
    const tampered = `${parts[0]}.${b64json({ ...payload, end: false })}.${parts[2]}`;
    const report = await verify([set[0]!, jwsItem(tampered), ...set.slice(2)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
    assertHasCode(report, 'CHAIN_BROKEN');
  });

  it('CWT payload with one claim changed (re-encoded), signature kept -> SIGNATURE_INVALID', async () => {
    const claims = cwtEmblemClaims();
    claims.delete(1);
    const good = await craftCwt({ header: cwtHeader(e256!), claims, signer: e256! });
    assert.deepEqual((await verify([cwtItem(good), keyItem(e256!)])).result, ['SIGNED-UNTRUSTED']);
    // Same signature bytes over different claims: sign the original, then swap the payload.
    const header = cwtHeader(e256!);
    const signature = await rawSign(e256!, sign1SigningInput(cborEncode(header), cborEncode(claims)));
    const changed = new Map(claims).set('assets', ['attacker.example']);
    const tampered = await craftCwt({ header, claims: changed, signer: e256!, signature });
    const report = await verify([cwtItem(tampered), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });

  it('CWT with one signature byte flipped -> SIGNATURE_INVALID', async () => {
    const bytes = await signCwt('emblem', emblemSpec({ iss: undefined }), e512!);
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 5] = flipped[flipped.length - 5]! ^ 0x80; // inside the trailing signature bstr
    const report = await verify([cwtItem(flipped), keyItem(e512!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });
});

describe('hostile: wrong or inconsistent kid', () => {
  it('JWS kid names another key present in the set -> SIGNATURE_INVALID, INVALID', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid: other256!.publicKey.jwsKid }, jwsEmblemPayload({ iss: undefined }), e256!);
    const report = await verify([jwsItem(token), ...keyItems(e256!, other256!)]);
    assert.deepEqual(report.result, INVALID);
    assert.ok(codes(report).includes('SIGNATURE_INVALID'), JSON.stringify(report.errors));
  });

  it('JWS kid names no key in the set -> KEY_UNKNOWN, INVALID', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid: 'a'.repeat(52) }, jwsEmblemPayload({ iss: undefined }), e256!);
    const report = await verify([jwsItem(token), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KEY_UNKNOWN');
  });

  it('JWS kid that is not a 52-character base32 kid -> HEADER_INVALID', async () => {
    for (const kid of ['A'.repeat(52), 'a'.repeat(51), 'a'.repeat(53), '../../etc/passwd', 1]) {
      const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid }, jwsEmblemPayload(), e256!);
      assertThrowsCode(() => parseJwsToken(token), 'HEADER_INVALID');
    }
  });

  it('JWS kid disagreeing with the embedded jwk -> KID_MISMATCH, INVALID', async () => {
    const token = await craftJws(
      { alg: 'ES256', cty: 'adem-emb', kid: other256!.publicKey.jwsKid, jwk: e256!.publicKey.jwk },
      jwsEmblemPayload({ iss: undefined }),
      e256!,
    );
    assertThrowsCode(() => parseJwsToken(token), 'KID_MISMATCH');
    const report = await verify([jwsItem(token), ...keyItems(e256!, other256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KID_MISMATCH');
  });

  it('JWS embedded jwk carrying a forged "kid" member is ignored: the kid is recomputed', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: { ...e256!.publicKey.jwk, kid: other256!.publicKey.jwsKid } }, jwsEmblemPayload({ iss: undefined }), e256!);
    const report = await verify([jwsItem(token)]);
    assert.deepEqual(report.result, ['SIGNED-UNTRUSTED']);
    assert.equal(report.emblem?.kid, e256!.publicKey.jwsKid);
  });

  it('JWS embedded jwk with private "d" -> KEY_INVALID', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: { ...e256!.publicKey.jwk, d: 'AAAA' } }, jwsEmblemPayload(), e256!);
    assertThrowsCode(() => parseJwsToken(token), 'KEY_INVALID');
  });

  it('CWT kid names another key in the set -> SIGNATURE_INVALID', async () => {
    const claims = cwtEmblemClaims();
    claims.delete(1);
    const token = await craftCwt({ header: cwtHeader(other256!), claims, signer: e256! });
    const report = await verify([cwtItem(token), ...keyItems(e256!, other256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'SIGNATURE_INVALID');
  });

  it('CWT kid names no key -> KEY_UNKNOWN', async () => {
    const claims = cwtEmblemClaims();
    claims.delete(1);
    const header = cwtHeader(e256!);
    header.set(4, new Uint8Array(32).fill(9));
    const token = await craftCwt({ header, claims, signer: e256! });
    const report = await verify([cwtItem(token), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KEY_UNKNOWN');
  });

  it('CWT kid given as the JWS-era (JWK thumbprint) kid bytes -> KEY_UNKNOWN (era kids differ)', async () => {
    const claims = cwtEmblemClaims();
    claims.delete(1);
    const header = cwtHeader(e256!);
    header.set(4, base32LowerNoPadDecode(e256!.publicKey.jwsKid));
    const token = await craftCwt({ header, claims, signer: e256! });
    const report = await verify([cwtItem(token), keyItem(e256!)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'KEY_UNKNOWN');
  });
});

describe('hostile: validity period (now is injected)', () => {
  const expired = validity(DAY, NOW_S - 2 * DAY); // ended a day ago
  const future = validity(DAY, NOW_S + DAY); // starts tomorrow

  for (const era of ['jws', 'cwt'] as const) {
    const sign = async (times: { iat: number; nbf: number; exp: number }) => {
      const spec = emblemSpec({ iss: undefined, ...times });
      return era === 'jws' ? jwsItem(await signJws('emblem', spec, e512!)) : cwtItem(await signCwt('emblem', spec, e512!));
    };

    it(`${era}: expired emblem -> TOKEN_EXPIRED, INVALID`, async () => {
      const report = await verify([await sign(expired), keyItem(e512!)]);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'TOKEN_EXPIRED');
    });

    it(`${era}: not-yet-valid emblem -> TOKEN_NOT_YET_VALID, INVALID`, async () => {
      const report = await verify([await sign(future), keyItem(e512!)]);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'TOKEN_NOT_YET_VALID');
    });

    it(`${era}: nbf <= now < exp boundaries (valid at nbf, expired at exp)`, async () => {
      const item = await sign(validity(DAY, NOW_S));
      assert.deepEqual((await verify([item, keyItem(e512!)])).result, ['SIGNED-UNTRUSTED']);
      const atExp = await verify([item, keyItem(e512!)], { now: new Date((NOW_S + DAY) * 1000) });
      assert.deepEqual(atExp.result, INVALID);
      assertHasCode(atExp, 'TOKEN_EXPIRED');
      const before = await verify([item, keyItem(e512!)], { now: new Date((NOW_S - 1) * 1000) });
      assertHasCode(before, 'TOKEN_NOT_YET_VALID');
    });

    it(`${era}: the same expired set re-verified with an earlier "now" is valid again`, async () => {
      const item = await sign(expired);
      const report = await verify([item, keyItem(e512!)], { now: new Date((expired.nbf + 60) * 1000) });
      assert.deepEqual(report.result, ['SIGNED-UNTRUSTED']);
    });
  }

  it('jws: an expired internal root endorsement makes the set INVALID (CORE-01: none expired)', async () => {
    const set = await jwsOrgChain(chainKeys, { root: expired });
    const report = await verify(set);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'TOKEN_EXPIRED');
    assertHasCode(report, 'CHAIN_BROKEN');
  });

  it('cwt: an expired internal root endorsement is discarded (CORE-02 step 2), leaving the issuer unauthenticated -> INVALID', async () => {
    const set = await cwtOrgChain(chainKeys, { root: expired });
    const report = await verify(set);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'TOKEN_EXPIRED');
    assertHasCode(report, 'ROOT_LOG_MISSING');
  });

  for (const era of ['jws', 'cwt'] as const) {
    it(`${era}: an expired or not-yet-valid external endorsement only drops that endorsement (ORGANIZATIONAL)`, async () => {
      const build = era === 'jws' ? jwsOrgChain : cwtOrgChain;
      const valid = await verify(await build(chainKeys, { external: {} }));
      assert.deepEqual(valid.result, ['ENDORSED-UNTRUSTED']);
      for (const [times, code] of [[expired, 'TOKEN_EXPIRED'], [future, 'TOKEN_NOT_YET_VALID']] as const) {
        const report = await verify(await build(chainKeys, { external: times }));
        assert.deepEqual(report.result, ['ORGANIZATIONAL-UNTRUSTED']);
        assert.deepEqual(report.levels, ['SIGNED', 'ORGANIZATIONAL']);
        assert.deepEqual(report.endorsedBy, []);
        assert.ok(codes(report).includes(code), JSON.stringify(report.errors));
      }
    });
  }

  it('jws: exp before nbf is a malformed token (CLAIM_INVALID)', async () => {
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: e256!.publicKey.jwk }, jwsEmblemPayload({ nbf: NOW_S, exp: NOW_S - 1 }), e256!);
    assertThrowsCode(() => parseJwsToken(token), 'CLAIM_INVALID');
  });

  it('jws: non-numeric, negative or null dates -> TOKEN_MALFORMED (issue 9 §5: no usable time, dropped)', async () => {
    for (const exp of ['2030-01-01', -1, null, true]) {
      const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: e256!.publicKey.jwk }, jwsEmblemPayload({ exp }), e256!);
      assertThrowsCode(() => parseJwsToken(token), 'TOKEN_MALFORMED');
    }
  });
});
