import type { ReportedError } from '../errors.js';

/** CORE-01 result levels, ordered weakest to strongest (SPEC-NOTES §1.4). */
export const RESULT_ORDER = [
  'UNSIGNED',
  'INVALID',
  'SIGNED-UNTRUSTED',
  'SIGNED-TRUSTED',
  'ORGANIZATIONAL-UNTRUSTED',
  'ORGANIZATIONAL-TRUSTED',
  'ENDORSED-UNTRUSTED',
  'ENDORSED-TRUSTED',
] as const;
export type ResultLevel = (typeof RESULT_ORDER)[number];

/** CORE-02 levels; INVALID is the empty set. */
export type Level = 'SIGNED' | 'ORGANIZATIONAL' | 'ENDORSED';

/** "unavailable": a commitment the result depends on could not be checked; the result is what was proven without it. */
export type CommitmentReport = 'verified' | 'skipped' | 'failed' | 'unavailable' | 'not-required';

/** A level the set might reach but that was not established because a commitment could not be checked. */
export interface NotEstablishedLevel {
  level: Level;
  /** The organisation whose root-key commitment could not be checked. */
  issuer: string | null;
  /** Stable codes of why (e.g. CT_LOG_UNREACHABLE), one per log pointer or lookup. */
  codes: string[];
  message: string;
}

/**
 * One emblem of a set that holds several valid emblems (MULTIPLE_EMBLEMS, so the set is INVALID as the spec
 * requires), verified alone with the rest of the set: shown so a validator sees "a valid chain plus a conflicting
 * emblem" rather than only "invalid".
 */
export type ContestedCandidate = Pick<VerificationReport, 'result' | 'levels' | 'protected' | 'issuer' | 'endorsedBy' | 'commitment' | 'notEstablished'> & {
  emblem: EmblemSummary;
};

/** What every front end prints for one verified token set (`emblem verify --json`; the CLI contract). */
export interface VerificationReport {
  era: 'jws' | 'cwt' | null;
  /** One or two CORE-01 levels: the strongest trusted one, plus the strongest untrusted one if strictly stronger. */
  result: ResultLevel[];
  /** CORE-02 levels reached; empty when INVALID or UNSIGNED. */
  levels: Level[];
  /** The emblem's assets exactly as written; empty when there is no valid emblem. */
  protected: string[];
  issuer: string | null;
  /** Organisations whose endorsements survived (CORE-01 step 6 / CORE-02 step 7). */
  endorsedBy: string[];
  commitment: CommitmentReport;
  /** Present when commitment is "unavailable": the levels that could not be established, and why. */
  notEstablished?: NotEstablishedLevel[];
  /**
   * Present when the set is INVALID with MULTIPLE_EMBLEMS and one of its emblems alone reaches ORGANIZATIONAL or
   * above (or would, but its commitment could not be checked): those emblems, each verified alone.
   */
  contested?: ContestedCandidate[];
  errors: ReportedError[];
  /** The emblem's details, when one was verified. */
  emblem: EmblemSummary | null;
  /** The verification time used (ISO-8601). */
  verifiedAt: string;
}

export interface EmblemSummary {
  kid: string;
  purposes: string[];
  distribution: string[];
  notBefore: string;
  expires: string;
  issuedAt: string | null;
  /** Signing kids from the emblem up to the root, then external endorsers' kids. */
  chain: string[];
}

export function isFailure(report: Pick<VerificationReport, 'result'>): boolean {
  return report.result.length === 0 || report.result.every((r) => r === 'INVALID' || r === 'UNSIGNED');
}

/** True when the result may be stronger than reported: a commitment it depends on could not be checked. */
export function isIndeterminate(report: Pick<VerificationReport, 'commitment'>): boolean {
  return report.commitment === 'unavailable';
}
