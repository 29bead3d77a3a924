/**
 * The browser's signature verifier (the core's WebCrypto one, which the extension bundles) against the Node
 * verifier the CLI installs: identical answers on the interop tokens from live deployments, on their tampered
 * variants, on fresh tokens of every algorithm, and identical verification reports for whole token sets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { parsePublicJwk, parsePublicKeyPem, useSignatureVerifier, webCryptoSignatureVerifier, type PublicKey, type SignatureVerifier } from '../../src/core/tokens/keys.js';
import { generateSigningKey, signToken } from '../../src/core/tokens/sign.js';
import type { SignatureAlgorithm } from '../../src/core/tokens/algorithms.js';
import type { Token } from '../../src/core/tokens/token.js';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { SHARED } from '../helpers/cli.js';
import { NOW, NOW_S, DAY } from '../helpers/tokens.js';

const INTEROP = join(SHARED, 'interop');

interface Case {
  label: string;
  key: PublicKey;
  data: Uint8Array;
  signature: Uint8Array;
}

/** The case itself plus a flipped signature bit, a flipped data bit, and a truncated signature. */
function variants(label: string, key: PublicKey, token: Token): Case[] {
  const sig = Uint8Array.from(token.signature);
  sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x80;
  const data = Uint8Array.from(token.signingInput);
  data[5] = data[5]! ^ 1;
  return [
    { label, key, data: token.signingInput, signature: token.signature },
    { label: `${label} (signature bit flipped)`, key, data: token.signingInput, signature: sig },
    { label: `${label} (data bit flipped)`, key, data, signature: token.signature },
    { label: `${label} (signature truncated)`, key, data: token.signingInput, signature: token.signature.slice(1) },
  ];
}

async function interopCases(): Promise<Case[]> {
  const cases: Case[] = [];
  // tokens/: keys embedded as jwk headers.
  for (const f of ['emblem.jws', 'emblem.felixlinker.de.jws', 'auth.felixlinker.de.jws']) {
    const token = parseJwsToken(readFileSync(join(INTEROP, 'tokens', f), 'utf8').trim());
    assert.ok(token.embeddedKey, `${f} embeds its key`);
    cases.push(...variants(f, token.embeddedKey, token));
  }
  // dns/: tokens with kids and keys as adem-key records (and the Red Cross chain with embedded keys).
  for (const f of ['emblem.felixlinker.de.txt', 'cyberstar.online.txt', 'emblem.redcross.org.uk.txt']) {
    const { material } = parseMaterialText(readFileSync(join(INTEROP, 'dns', f), 'utf8'), f);
    const keys = material.flatMap((m) => (m.kind === 'jwk' ? [parsePublicJwk(m.jwk)] : []));
    for (const m of material) {
      if (m.kind !== 'jws') continue;
      const token = parseJwsToken(m.text);
      const key = token.embeddedKey ?? keys.find((k) => k.jwsKid === token.headerKid);
      assert.ok(key, `${f}: the key of a token is published`);
      cases.push(...variants(`${f} ${token.kind}`, key, token));
    }
  }
  return cases;
}

describe('WebCrypto signature verifier (browser) vs node:crypto (CLI)', () => {
  it('gives identical answers on the interop tokens and their tampered variants', async () => {
    const cases = await interopCases();
    assert.ok(cases.length >= 30);
    let valid = 0;
    for (const c of cases) {
      const [web, node] = await Promise.all([webCryptoSignatureVerifier.verify(c.key, c.data, c.signature), nodeSignatureVerifier.verify(c.key, c.data, c.signature)]);
      assert.equal(web, node, c.label);
      if (web) valid++;
    }
    // Exactly the untampered ones verify.
    assert.equal(valid, cases.length / 4);
  });

  it('gives identical answers for fresh tokens of every algorithm', async () => {
    for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA'] as SignatureAlgorithm[]) {
      const { key } = await generateSigningKey(alg);
      const { key: other } = await generateSigningKey(alg);
      const { text } = await signToken('jws', 'emblem', { iat: NOW_S, nbf: NOW_S, exp: NOW_S + DAY, assets: ['a.example'] }, key);
      const token = parseJwsToken(text);
      for (const c of [...variants(alg, key.publicKey, token), { label: `${alg} (other key)`, key: other.publicKey, data: token.signingInput, signature: token.signature }]) {
        assert.equal(await webCryptoSignatureVerifier.verify(c.key, c.data, c.signature), await nodeSignatureVerifier.verify(c.key, c.data, c.signature), c.label);
      }
    }
  });

  it('makes verifyMaterial report the same for whole interop sets', async () => {
    const trusted = await parsePublicKeyPem(readFileSync(join(INTEROP, 'tokens', 'auth.felixlinker.de.pub.pem'), 'utf8'));
    const run = async (verifier: SignatureVerifier, file: string, at: Date) => {
      useSignatureVerifier(verifier);
      try {
        const { material } = parseMaterialText(readFileSync(join(INTEROP, 'dns', file), 'utf8'), file);
        return await verifyMaterial(material, { now: at, commitments: skipCommitmentCheck, trustedKeys: [trusted] });
      } finally {
        useSignatureVerifier(webCryptoSignatureVerifier);
      }
    };
    for (const [file, at] of [['emblem.felixlinker.de.txt', NOW], ['cyberstar.online.txt', new Date('2026-06-17T00:10:00Z')], ['emblem.redcross.org.uk.txt', new Date('2026-06-17T00:10:00Z')]] as const) {
      const web = await run(webCryptoSignatureVerifier, file, at);
      const node = await run(nodeSignatureVerifier, file, at);
      assert.deepEqual(web, node, file);
      assert.notDeepEqual(web.result, ['INVALID'], `${file} verifies as of ${at.toISOString()}`);
    }
    const endorsed = await run(webCryptoSignatureVerifier, 'emblem.felixlinker.de.txt', NOW);
    assert.deepEqual(endorsed.result, ['ENDORSED-TRUSTED']);
  });
});
