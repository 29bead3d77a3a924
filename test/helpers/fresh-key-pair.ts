import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * An EC key pair as KeyObjects that are safe to export: generated with its encodings and imported again. Exporting
 * the KeyObjects generateKeyPairSync returns can deadlock node 20 when a GC during the export finalises the
 * generation job (it takes the key's lock that the export holds; see docs/performance.md).
 */
export function freshEcKeyPair(namedCurve: 'prime256v1' | 'P-521'): { privateKey: KeyObject; publicKey: KeyObject } {
  const pair = generateKeyPairSync('ec', { namedCurve, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  return {
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
  };
}
