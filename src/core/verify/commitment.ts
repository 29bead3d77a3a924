import type { ReportedError } from '../errors.js';

/**
 * A pointer from a `log`-bearing endorsement to the CT log entry of the certificate that binds the
 * endorsement's verification key to its issuer (SPEC-NOTES §1.5). JWS era: `ver` is "v1" (RFC 6962, `hash`)
 * or "static" (static-ct-api, `index`). CWT era: no `ver`; exactly one of `hash` / `index`.
 */
export interface LogPointer {
  ver?: 'v1' | 'static';
  /** 32-byte CT log ID (SHA-256 of the log's SPKI). */
  id: Uint8Array;
  /** 32-byte RFC 6962 leaf hash. */
  hash?: Uint8Array;
  /** Leaf index in a static-ct (tiled) log. */
  index?: number;
}

/** What the engine asks a commitment checker: is `kid`'s key committed for `issuer` via these log entries? */
export interface CommitmentRequest {
  era: 'jws' | 'cwt';
  /** The organisation identifier (OI) of the `log`-bearing endorsement, e.g. "https://example.org". */
  issuer: string;
  /** Host part of `issuer` ("example.org"); the binding certificate must name `<kid>.adem-configuration.<host>`. */
  host: string;
  /** Textual kid of the key being committed, in the era's form (JWK thumbprint for JWS, COSE thumbprint for CWT). */
  kid: string;
  /** The committed public key as a public JWK (with `alg`). */
  publicKey: JsonWebKey;
  logs: LogPointer[];
  /** Verification time, so `--at` re-checks certificate validity as of then. */
  now: Date;
}

/**
 * verified: proven. failed: proven false (entry absent from a log whose tree head verified, bad proof, wrong
 * binding, bad signature). unavailable: could not be checked (log list, log or network unreachable, timeouts,
 * rate limits, unusable answers) — never to be reported as "not committed". skipped: not checked on request.
 */
export type CommitmentStatus = 'verified' | 'failed' | 'unavailable' | 'skipped';

export interface CommitmentOutcome {
  status: CommitmentStatus;
  /** Why it failed or could not be checked, one entry per log pointer or binding problem (stable codes). */
  errors: ReportedError[];
}

/** Injected into the engine: the core does no I/O, so the CT lookup lives in an adapter (src/ct). */
export interface CommitmentChecker {
  check(request: CommitmentRequest): Promise<CommitmentOutcome>;
}

/** The explicit escape hatch: commitments are not checked, and every report says so ("commitment": "skipped"). */
export const skipCommitmentCheck: CommitmentChecker = {
  async check() {
    return { status: 'skipped', errors: [] };
  },
};

/** Used when the caller neither skips nor provides a checker: nothing can be checked, so the outcome is unknown. */
export const noCommitmentChecker: CommitmentChecker = {
  async check() {
    return {
      status: 'unavailable',
      errors: [
        {
          code: 'COMMITMENT_UNVERIFIED',
          message: 'no Certificate Transparency checker configured; pass --skip-commitment-check to skip explicitly',
        },
      ],
    };
  },
};
