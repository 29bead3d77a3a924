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

export type CommitmentReport = 'verified' | 'skipped' | 'failed' | 'not-required';

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
