import type { ReportedError } from '../core/errors.js';
import { classifyEmblemRecords, type CheckReport, type VerifySet } from '../dns/name-check.js';
import { decodeEmblemRecords } from '../dns/token-sets.js';
import { ScanErrorCodes } from './errors.js';
import type { PrefetchedRecords } from './scan-target.js';

/**
 * `emblem check` for answers someone else already fetched (ZDNS input): no DNS query is sent, not even for the
 * addresses of address assets (those come from the A/AAAA answers on the same input line, if any). The report's
 * `discovery` is null because this process discovered nothing.
 */
export async function checkPrefetched(target: string, records: PrefetchedRecords, verify: VerifySet): Promise<CheckReport> {
  if (records.rcode === 'NXDOMAIN') return { target, status: 'nxdomain', level: null, sets: [], discovery: null, errors: [] };
  if (records.rcode !== 'NOERROR') {
    const error: ReportedError = { code: ScanErrorCodes.DNS_RESOLVER_FAILED, message: `the prefetched lookup of ${target} ended in ${records.rcode}` };
    return { target, status: 'error', level: null, sets: [], discovery: null, errors: [error] };
  }
  const decoded = decodeEmblemRecords(records.txtValues, records.ihleRdatas, `dns:${target}`);
  return classifyEmblemRecords(target, decoded, verify, async () => records.addresses, null);
}
