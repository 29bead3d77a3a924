import { isMoreGeneral, parseAssetIdentifier, type AssetIdentifier } from '../core/identifiers/asset.js';
import { isFailure } from '../core/verify/report.js';
import { normalizeUserName } from '../dns/domain-name.js';
import { checkName, type VerifySet } from '../dns/name-check.js';
import { describeResolver, type ResolverSpec } from '../dns/resolver.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import type { ParsedRequest } from './request.js';
import type { Finding } from './review.js';

/** At most this many names are looked up for one request (the rest are reported as not checked). */
export const MAX_REVIEW_DNS_NAMES = 20;

/** One token set the organisation publishes at a looked-up name, as the review sees it. */
export interface PublishedSet {
  era: 'jws' | 'cwt' | null;
  /** The set verified (its emblem, assets and issuer can be read); false: its records do not verify. */
  valid: boolean;
  issuer: string | null;
  assets: string[];
  /** Published assets the requested asset constraints would not cover. */
  outsideConstraints: string[];
  /** The requesting organisation's root key signs this set's chain. */
  rootKeyMatches: boolean;
  endorsedBy: string[];
  result: string[];
}

export interface PublishedName {
  /** The requested asset the name comes from (or the organisation's host, always looked up). */
  asset: string;
  /** The name looked up (for `*.x`: `x`). */
  name: string;
  wildcard: boolean;
  /** checkName's status (protected, no-emblem, nxdomain, error, ...). */
  status: string;
  sets: PublishedSet[];
  error?: string;
}

export interface PublishedReview {
  checked: boolean;
  resolver: string | null;
  names: PublishedName[];
  /** Requested names not looked up (over MAX_REVIEW_DNS_NAMES). */
  skippedNames: string[];
}

export const DNS_NOT_CHECKED: PublishedReview = { checked: false, resolver: null, names: [], skippedNames: [] };

function parsed(text: string): AssetIdentifier | null {
  try {
    return parseAssetIdentifier(text);
  } catch {
    return null;
  }
}

/**
 * The names to look up: each requested domain asset (`*.x` -> `x`), then the organisation's host (what it marks
 * there shows up even when the request leaves it out).
 */
export function namesToLookUp(req: ParsedRequest): Array<{ asset: string; name: string; wildcard: boolean }> {
  const out: Array<{ asset: string; name: string; wildcard: boolean }> = [];
  const seen = new Set<string>();
  const assets = [...(req.body.constraints.assets ?? []), req.host];
  for (const asset of assets) {
    const id = parsed(asset);
    if (!id || id.kind === 'address' || id.labels.length === 0) continue;
    const name = id.labels.join('.');
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ asset, name, wildcard: id.wildcard });
  }
  return out;
}

/** Published assets that no requested asset constraint covers (none without an asset constraint). */
export function outsideConstraints(published: readonly string[], requested: readonly string[] | undefined): string[] {
  if (!requested) return [];
  const req = requested.map(parsed).filter((a): a is AssetIdentifier => a !== null);
  return published.filter((p) => {
    const id = parsed(p);
    return !id || !req.some((r) => isMoreGeneral(r, id));
  });
}

/**
 * What the organisation currently publishes in DNS for the requested names, looked up the way `emblem check`
 * does (through the given resolver only: the assets themselves are never contacted). A resolver that does not
 * answer is indeterminate (DNS_UNAVAILABLE, a warning), never a refusal.
 */
export async function reviewPublished(
  req: ParsedRequest,
  o: { resolver: ResolverSpec; verify: VerifySet; timeoutMs?: number; attempts?: number },
): Promise<{ published: PublishedReview; findings: Finding[] }> {
  const all = namesToLookUp(req);
  const names = all.slice(0, MAX_REVIEW_DNS_NAMES);
  const findings: Finding[] = [];
  const published: PublishedReview = { checked: true, resolver: describeResolver(o.resolver), names: [], skippedNames: all.slice(MAX_REVIEW_DNS_NAMES).map((n) => n.name) };
  const rootKids = new Set([req.rootKey.jwsKid, req.rootKey.coseKidText]);
  const org = req.body.organization;
  for (const n of names) {
    const report = await checkName(normalizeUserName(n.name), { resolver: o.resolver, era: 'any', ihleType: DEFAULT_IHLE_TYPE, timeoutMs: o.timeoutMs ?? 3000, attempts: o.attempts ?? 2 }, o.verify);
    const where = `${n.name}${n.wildcard ? ` (for ${n.asset}: the wildcard's own name; names under it are not listed)` : ''}`;
    const entry: PublishedName = { asset: n.asset, name: n.name, wildcard: n.wildcard, status: report.status, sets: [] };
    published.names.push(entry);
    if (report.status === 'error') {
      entry.error = report.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
      findings.push({ code: 'DNS_UNAVAILABLE', severity: 'warning', message: `${where}: the resolver gave no answer (indeterminate, not refused: check again later): ${entry.error}` });
      continue;
    }
    for (const set of report.sets) {
      const valid = !isFailure(set);
      const assets = valid ? set.protected : [];
      entry.sets.push({
        era: set.era,
        valid,
        issuer: set.issuer,
        assets,
        outsideConstraints: outsideConstraints(assets, req.body.constraints.assets),
        rootKeyMatches: (set.emblem?.chain ?? []).some((k) => rootKids.has(k)),
        endorsedBy: set.endorsedBy,
        result: set.result,
      });
    }
    if (entry.sets.length === 0) {
      findings.push({ code: 'PUBLISHED_NONE', severity: 'info', message: `${where}: no emblem published yet (${report.status})` });
      continue;
    }
    for (const s of entry.sets) {
      const label = `${where}: ${s.era ?? 'unknown'}-era set`;
      if (!s.valid) {
        findings.push({ code: 'PUBLISHED_INVALID', severity: 'warning', message: `${label} does not verify (${s.result.join(', ') || 'INVALID'}); its assets cannot be read` });
        continue;
      }
      let problem = false;
      if (s.issuer !== org) {
        problem = true;
        findings.push({ code: 'PUBLISHED_OTHER_ISSUER', severity: 'warning', message: `${label} is issued by ${s.issuer ?? 'no organisation (no iss)'}, not ${org}` });
      }
      if (!s.rootKeyMatches) {
        problem = true;
        findings.push({ code: 'PUBLISHED_OTHER_KEY', severity: 'warning', message: `${label} is signed under another root key than ${req.rootKey.jwsKid}: the endorsement would not cover it` });
      }
      if (s.outsideConstraints.length > 0) {
        problem = true;
        findings.push({ code: 'PUBLISHED_OUTSIDE_CONSTRAINTS', severity: 'warning', message: `${label} marks ${s.outsideConstraints.join(', ')}, which the requested endorsement would not cover` });
      }
      if (!problem) findings.push({ code: 'PUBLISHED_OK', severity: 'info', message: `${label} by ${org} under root key ${req.rootKey.jwsKid} marks ${s.assets.join(', ')}, inside the requested constraints` });
    }
  }
  if (published.skippedNames.length > 0) {
    findings.push({ code: 'DNS_NAMES_SKIPPED', severity: 'info', message: `${published.skippedNames.length} more requested name(s) not looked up (limit ${MAX_REVIEW_DNS_NAMES})` });
  }
  return { published, findings };
}
