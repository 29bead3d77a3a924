import { reportError, type ReportedError } from '../core/errors.js';
import { isMoreGeneral, parseAssetIdentifier, assetsCoverName } from '../core/identifiers/asset.js';
import type { Material } from '../core/material/material.js';
import { RESULT_ORDER, isFailure, isIndeterminate, type ResultLevel, type VerificationReport } from '../core/verify/report.js';
import type { DiscoveryReport } from './discovery-report.js';
import type { DecodedEmblemRecords } from './token-sets.js';

// Browser-safe (no dns-packet, no sockets, no Buffer): the browser extension classifies what it found over DoH with
// exactly the code `emblem check` uses.

/**
 * Outcome of `emblem check NAME`, from best to worst. indeterminate: a valid emblem names the target but a root-key
 * commitment could not be checked (level is what was proven so far). contested: the set is INVALID with
 * MULTIPLE_EMBLEMS, but one of its emblems alone verifies at ORGANIZATIONAL or above and names the target.
 */
export type CheckStatus = 'protected' | 'indeterminate' | 'contested' | 'not-covered' | 'expired' | 'invalid' | 'no-emblem' | 'nxdomain' | 'error';

/** One verified token set: the `emblem verify` report plus how it relates to the queried name. */
export interface CheckedTokenSet extends VerificationReport {
  identifier: string | null;
  /** The emblem names the queried name (domain asset, wildcards included) or one of its addresses. */
  covered: boolean;
  coveredBy: { asset: string; via: 'name' | 'address'; address?: string } | null;
  /** For a contested set: the candidate (index into `contested`) that names the queried name, and how. */
  contestedCoveredBy?: { candidate: number; asset: string; via: 'name' | 'address'; address?: string };
  /** The set's tokens as `emblem verify` reads them (one per line), when asked for (`emblem check --with-tokens`). */
  tokens?: string[];
}

export interface CheckReport {
  target: string;
  status: CheckStatus;
  /** Strongest CORE-01 level of the best set when status is protected, indeterminate or not-covered; of the
   *  covering candidate when contested. */
  level: ResultLevel | null;
  sets: CheckedTokenSet[];
  discovery: DiscoveryReport | null;
  /** Discovery errors (resolver failure, timeout) and unreadable records. */
  errors: ReportedError[];
}

export type VerifySet = (material: Material[], era: 'jws' | 'cwt') => Promise<VerificationReport>;

const EXPIRY_CODES = new Set(['TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID']);
const RANK: Record<CheckStatus, number> = {
  protected: 0, indeterminate: 1, contested: 2, 'not-covered': 3, expired: 4, invalid: 5, 'no-emblem': 6, nxdomain: 7, error: 8,
};

function strongest(report: Pick<VerificationReport, 'result'>): ResultLevel | null {
  let best: ResultLevel | null = null;
  for (const r of report.result) if (best === null || RESULT_ORDER.indexOf(r) > RESULT_ORDER.indexOf(best)) best = r;
  return best;
}

function setStatus(set: CheckedTokenSet): CheckStatus {
  if (!isFailure(set)) return !set.covered ? 'not-covered' : isIndeterminate(set) ? 'indeterminate' : 'protected';
  if (set.contestedCoveredBy) return 'contested';
  return set.errors.some((e) => EXPIRY_CODES.has(String(e.code))) ? 'expired' : 'invalid';
}

function addressCoverage(assets: string[], addresses: string[]): CheckedTokenSet['coveredBy'] {
  for (const address of addresses) {
    let target;
    try {
      target = parseAssetIdentifier(`[${address}]`);
    } catch {
      continue;
    }
    for (const asset of assets) {
      try {
        if (isMoreGeneral(parseAssetIdentifier(asset), target)) return { asset, via: 'address', address };
      } catch {
        // an unparseable asset covers nothing
      }
    }
  }
  return null;
}

/**
 * The second half of a check, shared by live lookups and by answers fetched by someone else (scan's ZDNS input):
 * verify each token set, decide whether a valid emblem covers the target by name or, for address assets, by one
 * of its addresses (`addresses` is asked at most once, and only then), and rank the sets.
 */
export async function classifyEmblemRecords(
  target: string,
  decoded: DecodedEmblemRecords,
  verify: VerifySet,
  addresses: () => Promise<string[]>,
  discovery: DiscoveryReport | null,
): Promise<CheckReport> {
  if (decoded.sets.length === 0) return { target, status: 'no-emblem', level: null, sets: [], discovery, errors: decoded.errors };
  const sets: CheckedTokenSet[] = [];
  let known: string[] | null = null;
  const errors = [...decoded.errors];
  for (const set of decoded.sets) {
    let report: VerificationReport;
    try {
      report = await verify(set.material, set.era);
    } catch (err) {
      // A verifier that fails (a scan's verification thread died) fails this set, not the whole check.
      errors.push(reportError(err));
      continue;
    }
    const coverage = async (assets: string[]): Promise<CheckedTokenSet['coveredBy']> => {
      const byName = assets.find((a) => assetsCoverName([a], target));
      if (byName !== undefined) return { asset: byName, via: 'name' };
      if (!assets.some((a) => a.startsWith('['))) return null;
      if (known === null) {
        try {
          known = await addresses();
        } catch (err) {
          known = [];
          errors.push(reportError(err));
        }
      }
      return addressCoverage(assets, known);
    };
    const coveredBy = isFailure(report) ? null : await coverage(report.protected);
    const checked: CheckedTokenSet = { identifier: set.identifier, covered: coveredBy !== null, coveredBy, ...report };
    for (const [candidate, c] of (isFailure(report) ? report.contested ?? [] : []).entries()) {
      const by = await coverage(c.protected);
      if (by) {
        checked.contestedCoveredBy = { candidate, ...by };
        break;
      }
    }
    sets.push(checked);
  }
  if (sets.length === 0) return { target, status: 'error', level: null, sets, discovery, errors };
  sets.sort((a, b) => RANK[setStatus(a)] - RANK[setStatus(b)]);
  const best = sets[0]!;
  const status = setStatus(best);
  const candidate = best.contestedCoveredBy ? best.contested?.[best.contestedCoveredBy.candidate] : undefined;
  const level = status === 'protected' || status === 'indeterminate' || status === 'not-covered' ? strongest(best) : candidate ? strongest(candidate) : null;
  return { target, status, level, sets, discovery, errors };
}
