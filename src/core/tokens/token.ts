import type { AssetIdentifier } from '../identifiers/asset.js';
import type { LogPointer } from '../verify/commitment.js';
import type { SignatureAlgorithm } from './algorithms.js';
import type { PublicKey } from './keys.js';

export type Era = 'jws' | 'cwt';
export type TokenKind = 'emblem' | 'endorsement';

/**
 * Purposes as a bitmap, shared by both eras so one engine checks both: CORE-02 defines the bits, and the CORE-01
 * strings map onto the first two ("protective" = 1, "indicative" = 2).
 */
export const PURPOSE_BITS = {
  protective: 1,
  indicative: 2,
  'dangerous-forces': 4,
  'civil-defence': 8,
  'cultural-property': 16,
} as const;
export type PurposeName = keyof typeof PURPOSE_BITS;
/** CORE-01 allows only these two purpose strings in JWS tokens. */
export const JWS_PURPOSES: readonly PurposeName[] = ['protective', 'indicative'];

/** CORE-01 `dst` values; only "dns" is current, the others are tolerated from older drafts and prototypes. */
export const DISTRIBUTION_BITS = { dns: 1, udp: 2, tls: 4, icmp: 8 } as const;
export type DistributionName = keyof typeof DISTRIBUTION_BITS;

export function purposeNames(bits: number): PurposeName[] {
  return (Object.keys(PURPOSE_BITS) as PurposeName[]).filter((p) => (bits & PURPOSE_BITS[p]) !== 0);
}

export function distributionNames(bits: number): DistributionName[] {
  return (Object.keys(DISTRIBUTION_BITS) as DistributionName[]).filter((d) => (bits & DISTRIBUTION_BITS[d]) !== 0);
}

/** Claims of either era, normalised. `null` means "absent" where absence has a meaning of its own. */
export interface TokenClaims {
  iat: number | null;
  nbf: number;
  exp: number;
  iss: string | null;
  sub: string | null;
  /** Emblem: the assets exactly as written, and parsed. */
  assets: string[] | null;
  parsedAssets: AssetIdentifier[] | null;
  /** Emblem: its purposes (absent = empty set). Endorsement: the permitted purposes (absent = unconstrained). */
  purposes: number | null;
  /** JWS only. Emblem: distribution methods; endorsement: permitted ones (absent = unconstrained). */
  distribution: number | null;
  /** Endorsement: the endorsed key's textual kid in the token's era. */
  key: string | null;
  end: boolean;
  log: LogPointer[] | null;
  /** Endorsement (JWS): assets the endorsed key may mark (absent = unconstrained). */
  constraintAssets: AssetIdentifier[] | null;
  /** Endorsement (JWS): longest allowed emblem lifetime `exp - nbf` in seconds. */
  window: number | null;
}

/** A syntactically valid, not yet verified token. */
export interface Token {
  era: Era;
  kind: TokenKind;
  /** JWS compact text, or the CWT as lower-case hex. */
  raw: string;
  /** SHA-256 (hex) of the token bytes: the key for caches of verified tokens. */
  hash: string;
  alg: SignatureAlgorithm;
  /** The key identifier named in the header (JWS `kid`, CWT `kid` as base32 text), if any. */
  headerKid: string | null;
  /** JWS only: the key embedded in the header (`jwk`). */
  embeddedKey: PublicKey | null;
  signingInput: Uint8Array;
  signature: Uint8Array;
  claims: TokenClaims;
}
