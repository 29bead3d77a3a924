import type { CommitmentStatus } from '../core/verify/commitment.js';
import { CtErrorCodes } from './errors.js';
import type { CommitmentPolicy } from './commitment-checker-base.js';

/**
 * Codes that mean "could not check", not "proven false": the log list, a log or the network was unavailable
 * (timeouts, HTTP errors such as 429/503, oversized or unparseable answers, an offline bundle without the data).
 * Nothing about the commitment follows from them, so they make the outcome "unavailable", never "failed".
 * Every other code is a proven failure: an entry absent from a log whose tree head verified, a bad proof or tree
 * head signature, a fork, an entry that does not hash as claimed, a certificate that does not bind the key, a log
 * the list does not accept, a malformed pointer in the token.
 */
const COULD_NOT_CHECK = new Set<string>([
  CtErrorCodes.CT_LOG_UNREACHABLE,
  CtErrorCodes.CT_LOG_LIST_INVALID,
  CtErrorCodes.CT_RESPONSE_MALFORMED,
  'COMMITMENT_UNAVAILABLE',
  // An unexpected exception (a bug, a library failing on odd input) proves nothing about the commitment.
  'INTERNAL',
]);

export function isCouldNotCheck(code: string | number): boolean {
  return COULD_NOT_CHECK.has(String(code));
}

/**
 * Combines per-entry outcomes. "all": any proven failure fails; otherwise any unchecked entry leaves it unavailable.
 * "any": one verified entry suffices; otherwise any unchecked entry leaves it unavailable.
 */
export function combineEntryStatuses(policy: CommitmentPolicy, statuses: Array<'verified' | 'failed' | 'unavailable'>): CommitmentStatus {
  const has = (s: string) => statuses.includes(s as 'verified');
  if (policy === 'all') return has('failed') ? 'failed' : has('unavailable') ? 'unavailable' : 'verified';
  return has('verified') ? 'verified' : has('unavailable') ? 'unavailable' : 'failed';
}
