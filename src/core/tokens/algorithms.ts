import { EmblemError } from '../errors.js';

/**
 * The signature algorithms ADEM tokens may use. Anything else (none, HS*, RS*, PS*) is rejected before any
 * key is touched, so a header can never pick an algorithm the key was not made for (algorithm confusion).
 */
export type SignatureAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export interface AlgorithmInfo {
  alg: SignatureAlgorithm;
  kty: 'EC' | 'OKP';
  crv: 'P-256' | 'P-384' | 'P-521' | 'Ed25519';
  /** Octets of one coordinate (x, y) and of each half of an ECDSA signature. */
  coordinateBytes: number;
  signatureBytes: number;
  coseAlg: number;
  coseKty: number;
  coseCrv: number;
  webcrypto: { importParams: EcKeyImportParams | Algorithm; verifyParams: EcdsaParams | Algorithm };
}

export const ALGORITHMS: Record<SignatureAlgorithm, AlgorithmInfo> = {
  ES256: {
    alg: 'ES256', kty: 'EC', crv: 'P-256', coordinateBytes: 32, signatureBytes: 64, coseAlg: -7, coseKty: 2, coseCrv: 1,
    webcrypto: { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, verifyParams: { name: 'ECDSA', hash: 'SHA-256' } },
  },
  ES384: {
    alg: 'ES384', kty: 'EC', crv: 'P-384', coordinateBytes: 48, signatureBytes: 96, coseAlg: -35, coseKty: 2, coseCrv: 2,
    webcrypto: { importParams: { name: 'ECDSA', namedCurve: 'P-384' }, verifyParams: { name: 'ECDSA', hash: 'SHA-384' } },
  },
  ES512: {
    alg: 'ES512', kty: 'EC', crv: 'P-521', coordinateBytes: 66, signatureBytes: 132, coseAlg: -36, coseKty: 2, coseCrv: 3,
    webcrypto: { importParams: { name: 'ECDSA', namedCurve: 'P-521' }, verifyParams: { name: 'ECDSA', hash: 'SHA-512' } },
  },
  EdDSA: {
    alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', coordinateBytes: 32, signatureBytes: 64, coseAlg: -8, coseKty: 1, coseCrv: 6,
    webcrypto: { importParams: { name: 'Ed25519' }, verifyParams: { name: 'Ed25519' } },
  },
};

/** COSE algorithm identifiers, including the fully-specified ones (RFC 9864) that name the same curves. */
const COSE_ALGS = new Map<number, SignatureAlgorithm>([
  [-7, 'ES256'], [-9, 'ES256'],
  [-35, 'ES384'], [-51, 'ES384'],
  [-36, 'ES512'], [-52, 'ES512'],
  [-8, 'EdDSA'], [-19, 'EdDSA'],
]);

export function algorithmFromJose(alg: unknown): AlgorithmInfo {
  if (typeof alg === 'string' && Object.hasOwn(ALGORITHMS, alg)) return ALGORITHMS[alg as SignatureAlgorithm];
  if (alg === 'none') throw new EmblemError('TOKEN_UNSIGNED', 'token is not signed (alg "none")');
  throw new EmblemError('ALGORITHM_UNSUPPORTED', `unsupported algorithm ${JSON.stringify(alg)}; ADEM uses ES256, ES384, ES512 or EdDSA`);
}

export function algorithmFromCose(alg: unknown): AlgorithmInfo {
  const name = typeof alg === 'number' ? COSE_ALGS.get(alg) : undefined;
  if (!name) throw new EmblemError('ALGORITHM_UNSUPPORTED', `unsupported COSE algorithm ${String(alg)}`);
  return ALGORITHMS[name];
}

export function algorithmForCurve(crv: unknown): AlgorithmInfo | undefined {
  return Object.values(ALGORITHMS).find((a) => a.crv === crv);
}
