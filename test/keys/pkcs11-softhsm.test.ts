/**
 * Root keys in a PKCS#11 token, against SoftHSM2 (Debian's softhsm2): keys generated inside the token,
 * non-extractable, found again by label, and tokens they sign (JWS and CWT, emblem and endorsement) verify with
 * the project's own verification.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { parsePublicJwk, verifySignature } from '../../src/core/tokens/keys.js';
import { externalSigningKey, signToken } from '../../src/core/tokens/sign.js';
import { parsePemCertificates, summarizeCertificate } from '../../src/ct/certificate.js';
import { prepareLocalCtCommitments } from '../../src/ct/local-ct-commitments.js';
import { createCommitmentChecker, generateKey, logEntriesFromChain, signEmblem, signEndorsement, verifyTokenSet } from '../../src/index.js';
import { KeyStoreErrorCodes } from '../../src/keys/errors.js';
import { signingKeyFromStore } from '../../src/keys/key-store.js';
import { openPkcs11SigningKey, Pkcs11Key, Pkcs11Token, pkcs11PinFrom, type Pkcs11Algorithm } from '../../src/keys/pkcs11.js';
import { HAVE_SOFTHSM, initSoftHsmToken, SOFTHSM_MODULE } from '../helpers/softhsm.js';

const MODULE = SOFTHSM_MODULE;
// Fixed instants: the tokens are signed and verified at these, never at the wall clock.
const AT = new Date('2026-06-01T12:00:00Z');
const VALIDITY = { notBefore: new Date('2026-06-01T00:00:00Z'), expires: new Date('2026-06-08T00:00:00Z') };

describe('PKCS#11 key store with SoftHSM2', { skip: !HAVE_SOFTHSM && 'softhsm2 not installed', timeout: 60_000 }, () => {
  let dir: string;
  const options = () => ({ module: MODULE, token: 'emblem-test', pin: '1234' });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'emblem-softhsm-'));
    // SoftHSM reads its configuration at C_Initialize, in this process too.
    process.env.SOFTHSM2_CONF = initSoftHsmToken(dir, 'emblem-test', '1234');
  });

  after(() => {
    delete process.env.SOFTHSM2_CONF;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong PIN, an unknown token and a missing PIN with their codes', async () => {
    await assert.rejects(Pkcs11Token.open({ ...options(), pin: '9999' }), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_LOGIN_FAILED);
    await assert.rejects(Pkcs11Token.open({ ...options(), token: 'nope' }), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_TOKEN_NOT_FOUND);
    await assert.rejects(Pkcs11Token.open({ ...options(), module: join(dir, 'missing.so') }), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_MODULE_UNLOADABLE);
    await assert.rejects(pkcs11PinFrom({ env: {} }), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_PIN_MISSING);
    assert.equal(await pkcs11PinFrom({ env: { EMBLEM_PKCS11_PIN: '1234' } }), '1234');
    writeFileSync(join(dir, 'pin'), '4321\n', { mode: 0o600 });
    assert.equal(await pkcs11PinFrom({ pinFile: join(dir, 'pin'), env: { EMBLEM_PKCS11_PIN: '1234' } }), '4321');
  });

  it('openPkcs11SigningKey generates on first use and finds the same key afterwards', async () => {
    const first = await openPkcs11SigningKey({ ...options(), label: 'emblem-root', generate: 'ES512' });
    const jwk = first.key.publicJwk();
    first.close();
    const second = await openPkcs11SigningKey({ ...options(), label: 'emblem-root', generate: 'ES512' });
    try {
      assert.deepEqual(second.key.publicJwk(), jwk);
      assert.equal(second.signingKey.alg, 'ES512');
      assert.equal(second.signingKey.cryptoKey, undefined);
    } finally {
      second.close();
    }
    await assert.rejects(openPkcs11SigningKey({ ...options(), label: 'absent' }), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_KEY_NOT_FOUND);
  });

  for (const [alg, crv] of [['ES512', 'P-521'], ['ES256', 'P-256']] as Array<[Pkcs11Algorithm, string]>) {
    it(`${alg}: generates a non-extractable ${crv} key in the token, finds it by label, and its signatures verify`, async () => {
      const label = `root-${alg}`;
      const token = await Pkcs11Token.open({ ...options(), pin: await pkcs11PinFrom({ env: { EMBLEM_PKCS11_PIN: '1234' } }) });
      let publicJwk: JsonWebKey;
      try {
        const key = Pkcs11Key.generate(token, label, alg);
        publicJwk = key.publicJwk();
        assert.equal(publicJwk.crv, crv);
        assert.equal(publicJwk.alg, alg);
        assert.equal((publicJwk as { d?: string }).d, undefined);
        assert.deepEqual(key.privateKeyAttributes(), { extractable: false, sensitive: true, token: true, neverExtractable: true });
        // The label is taken now: no second key under it.
        assert.throws(() => Pkcs11Key.generate(token, label, alg), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_KEY_EXISTS);
        assert.throws(() => Pkcs11Key.find(token, 'no-such-key'), (e: { code?: string }) => e.code === KeyStoreErrorCodes.PKCS11_KEY_NOT_FOUND);
      } finally {
        token.close();
      }

      // A new session finds the same key again and signs with it.
      const again = await Pkcs11Token.open(options());
      try {
        const root = Pkcs11Key.find(again, label);
        assert.deepEqual(root.publicJwk(), publicJwk);
        assert.equal(root.alg, alg);
        const rootSigner = signingKeyFromStore(root);
        const emblemKey = await generateKey('ES512');
        const org = 'https://hospital.example';

        // JWS era, the full chain: emblem by the emblem key, root endorsement signed in the token with the `log`
        // entries of the root key's binding certificate in a local CT log; the CT checker verifies the commitment.
        mkdirSync(join(dir, `ct-${alg}`));
        const ct = await prepareLocalCtCommitments(join(dir, `ct-${alg}`), [{ name: 'root', host: 'hospital.example', key: rootSigner.publicKey }]);
        try {
          const chainPem = readFileSync(join(dir, `ct-${alg}`, 'root.chain.pem'), 'utf8');
          const entries = await logEntriesFromChain(chainPem);
          const at = new Date(summarizeCertificate(parsePemCertificates(chainPem)[0]!).notBefore.getTime() + 60_000);
          const validity = { notBefore: new Date(at.getTime() - 3_600_000), expires: new Date(at.getTime() + 86_400_000) };
          const emblem = await signEmblem({ ...validity, issuer: org, assets: ['hospital.example'] }, emblemKey.signingKey);
          const endorsement = await signEndorsement({ ...validity, issuer: org, subject: org, endorse: emblemKey.publicJwk, log: entries.map((e) => e.log) }, rootSigner);
          const checker = await createCommitmentChecker({ logList: [ct.logListUrl], cacheDir: join(dir, `cache-${alg}`) });
          const verified = await verifyTokenSet([emblem, endorsement, JSON.stringify(emblemKey.publicJwk), JSON.stringify(publicJwk)].join('\n'), { at, commitments: checker });
          assert.deepEqual(verified.errors, []);
          assert.equal(verified.commitment, 'verified');
          assert.deepEqual(verified.result, ['ORGANIZATIONAL-UNTRUSTED']);
        } finally {
          await ct.close();
        }

        // The root key signs an emblem itself; verification uses only the public JWK read from the token.
        const direct = await signEmblem({ ...VALIDITY, assets: ['hospital.example'] }, rootSigner);
        const directResult = await verifyTokenSet([direct, JSON.stringify(publicJwk)].join('\n'), { at: AT, commitments: 'skip', trustedKeys: [publicJwk as Record<string, unknown>] });
        assert.deepEqual(directResult.errors, []);
        assert.ok(directResult.result.includes('SIGNED-TRUSTED'), JSON.stringify(directResult));

        // The token's signature does not verify under another public key (the token really signed, with this key).
        const other = await generateKey(alg);
        const impostor = externalSigningKey(other.publicJwk, (data) => root.sign(data));
        const forged = await signEmblem({ ...VALIDITY, assets: ['hospital.example'] }, impostor);
        const forgedResult = await verifyTokenSet([forged, JSON.stringify(other.publicJwk)].join('\n'), { at: AT, commitments: 'skip', trustedKeys: [other.publicJwk] });
        assert.ok(forgedResult.result.includes('INVALID'), JSON.stringify(forgedResult));

        // CWT era: a COSE_Sign1 endorsement signed in the token.
        const iat = Math.floor(VALIDITY.notBefore.getTime() / 1000);
        const cwt = await signToken('cwt', 'endorsement', { iss: org, sub: org, iat, nbf: iat, exp: iat + 86_400, endorse: emblemKey.signingKey.publicKey, end: true }, rootSigner);
        const parsed = parseCwtToken(cwt.bytes!);
        assert.equal(parsed.signature.length, ALGORITHMS_SIG[alg]);
        assert.equal(await verifySignature(parsePublicJwk(publicJwk), parsed.signingInput, parsed.signature), true);
        assert.equal(await verifySignature(parsePublicJwk(other.publicJwk), parsed.signingInput, parsed.signature), false);
      } finally {
        again.close();
      }
    });
  }
});

const ALGORITHMS_SIG: Record<Pkcs11Algorithm, number> = { ES256: 64, ES512: 132 };
