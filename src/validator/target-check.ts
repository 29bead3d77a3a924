import { reportError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import type { Material } from '../core/material/material.js';
import type { VerificationReport } from '../core/verify/report.js';
import type { DiscoveryOptions } from '../dns/discovery.js';
import { normalizeUserName, toFqdn } from '../dns/domain-name.js';
import { checkName, type CheckReport } from '../dns/name-check.js';
import { checkPrefetched } from './prefetched-check.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ScanTarget } from './scan-target.js';

export interface TargetCheckContext {
  /** How to ask the DNS for targets without prefetched answers; null means "never send a query". */
  discovery: DiscoveryOptions | null;
  /** Query budget (--qps), shared by all concurrent checks. */
  queries: RateLimiter | null;
  verify: (material: Material[]) => Promise<VerificationReport>;
  /** Counts DNS questions actually asked (reported in the summary and the bench). */
  onQueries?: (n: number) => void;
}

function errorReport(target: string, code: string, message: string): CheckReport {
  return { target, status: 'error', level: null, sets: [], discovery: null, errors: [{ code, message }] };
}

/**
 * One target of a scan, end to end: the same object `emblem check --json` prints. Never throws: unreadable input,
 * an unusable name or a failing resolver become a result with status "error" and a stable code, so one bad line
 * cannot stop a scan of millions.
 */
export async function checkTarget(target: ScanTarget, ctx: TargetCheckContext): Promise<CheckReport> {
  if (target.inputError !== undefined) return errorReport(target.name, ScanErrorCodes.INPUT_INVALID, target.inputError);
  let name;
  try {
    name = normalizeUserName(target.name);
  } catch (err) {
    return errorReport(target.name, ScanErrorCodes.INPUT_INVALID, `not a domain name: ${(err as Error).message}`);
  }
  const fqdn = toFqdn(name).replace(/\.$/, '') || '.';
  try {
    if (target.prefetched) return await checkPrefetched(fqdn, target.prefetched, ctx.verify);
    if (!ctx.discovery) return errorReport(fqdn, ScanErrorCodes.INPUT_INVALID, 'no prefetched answers and DNS lookups are disabled');
    // Reserve the usual cost (TXT, then IHLE unless a DNS-02 server added it), settle the real count afterwards.
    const estimate = ctx.discovery.era === 'any' ? 2 : 1;
    await ctx.queries?.take(estimate);
    const report = await checkName(name, ctx.discovery, (material) => ctx.verify(material));
    const asked = report.discovery?.queries.length ?? estimate;
    ctx.queries?.charge(asked - estimate);
    ctx.onQueries?.(asked);
    return report;
  } catch (err) {
    const e = reportError(err);
    return errorReport(fqdn, String(e.code), e.message);
  }
}
