import { EmblemError } from '../core/errors.js';
import { parseAssetIdentifier } from '../core/identifiers/asset.js';
import type { CommitmentChecker } from '../core/verify/commitment.js';
import { AuthorityLimits } from './limits.js';
import type { ParsedRequest } from './request.js';
import { checkRequestProof } from './request-proof.js';
import { DNS_NOT_CHECKED, reviewPublished, type PublishedReview } from './review-dns.js';
import type { ResolverSpec } from '../dns/resolver.js';
import type { VerifySet } from '../dns/name-check.js';

export type Severity = 'info' | 'warning' | 'refuse';
export interface Finding {
  code: string;
  severity: Severity;
  message: string;
}
export type Verdict = 'ok' | 'warnings' | 'refuse';

export interface Review {
  verdict: Verdict;
  findings: Finding[];
  organization: string;
  kid: string;
  coseKid: string;
  constraints: ParsedRequest['body']['constraints'];
  contact: string;
  createdAt: string;
  commitment: 'verified' | 'failed' | 'unavailable' | 'skipped';
  /** Eras the endorsement would be signed in (the request's). */
  eras: string[];
  /** What the organisation publishes in DNS now (checked only with a resolver). */
  published: PublishedReview;
}

/**
 * Bad input rather than a verdict (exit 2): a request older than the authority accepts, from the future, or whose
 * nonce was already granted (a replay of a request the authority has answered).
 */
export function checkFreshness(req: ParsedRequest, o: { now: number; maxAge: number; nonceSeen: (nonce: string) => boolean }): void {
  if (req.createdAt < o.now - o.maxAge) throw new EmblemError('REQUEST_EXPIRED', `the request was made ${req.body.createdAt}, more than ${Math.round(o.maxAge / 86_400)} days ago (config maxRequestAge): ask for a new one`);
  if (req.createdAt > o.now + AuthorityLimits.maxFutureSkewSeconds) throw new EmblemError('REQUEST_FROM_FUTURE', `the request claims to be made ${req.body.createdAt}, in the future`);
  if (o.nonceSeen(req.body.nonce)) throw new EmblemError('NONCE_REPLAYED', `nonce ${req.body.nonce} was already granted: a replayed request (ask the organisation for a new one)`);
}

function underHost(name: string, host: string): boolean {
  return name === host || name.endsWith(`.${host}`);
}

/** What each requested asset means, in words, with warnings for scopes an authority should look at twice. */
function constraintFindings(req: ParsedRequest): Finding[] {
  const out: Finding[] = [];
  const c = req.body.constraints;
  if (!c.assets) out.push({ code: 'UNCONSTRAINED_ASSETS', severity: 'warning', message: 'no asset constraint: the endorsement would cover any asset the organisation marks; narrow it with --constrain-asset' });
  for (const a of c.assets ?? []) {
    const id = parseAssetIdentifier(a);
    if (id.kind === 'address') {
      out.push({ code: 'ADDRESS_ASSET', severity: 'warning', message: `${a}: an address range; nothing ties it to ${req.host} (check who holds it)` });
      continue;
    }
    const name = id.labels.join('.');
    // Inside its own domain the organisation controls every name the wildcard covers: shown, not a warning. Outside,
    // it would mark other people's names (ASSET_OUTSIDE_DOMAIN below adds the warning for that).
    if (id.wildcard) out.push({ code: 'WILDCARD', severity: underHost(name, req.host) ? 'info' : 'warning', message: `${a}: a wildcard covers every name under ${name}` });
    if (!underHost(name, req.host)) out.push({ code: 'ASSET_OUTSIDE_DOMAIN', severity: 'warning', message: `${a}: outside the organisation's domain ${req.host}` });
  }
  if (!c.purposes) out.push({ code: 'UNCONSTRAINED_PURPOSES', severity: 'info', message: 'no purpose constraint: protective and indicative' });
  if (c.maxLifetime === undefined) out.push({ code: 'UNCONSTRAINED_LIFETIME', severity: 'info', message: 'no emblem lifetime limit (wnd)' });
  const cwt = cwtUnsupported(req.eras, c);
  if (cwt) out.push({ code: 'CWT_CONSTRAINT_UNSUPPORTED', severity: 'warning', message: cwt });
  return out;
}

/**
 * The CWT era (CORE-02) has no asset constraints and no `wnd`: a CWT endorsement constrains purposes only. When a
 * CWT endorsement is asked for with such constraints, says what the CWT token cannot carry (null: nothing lost).
 */
export function cwtUnsupported(eras: readonly string[], c: ParsedRequest['body']['constraints']): string | null {
  if (!eras.includes('cwt')) return null;
  const lost = [...(c.assets ? [`asset constraints (${c.assets.join(', ')})`] : []), ...(c.maxLifetime !== undefined ? ['the emblem lifetime limit (wnd)'] : [])];
  if (lost.length === 0) return null;
  return `the CWT-era endorsement (CORE-02) cannot carry ${lost.join(' or ')}: validators of the CWT era will not enforce them (only the purposes, prp); grant signs it only with --cwt-without-asset-constraints`;
}

/**
 * The authority's review of a request: proof of possession, addressed to this authority, root-key commitment in
 * CT for the organisation identifier (the checker also checks the binding certificate's names: <kid>.adem-
 * configuration.<host> and the host), requested scope. "could not check" is a warning, never a refusal.
 */
export async function reviewRequest(req: ParsedRequest, o: { authority: string; commitments: CommitmentChecker; now: number; dns?: { resolver: ResolverSpec; verify: VerifySet; timeoutMs?: number; attempts?: number } }): Promise<Review> {
  const findings: Finding[] = [];
  if (req.body.authority !== o.authority) findings.push({ code: 'WRONG_AUTHORITY', severity: 'refuse', message: `the request is addressed to ${req.body.authority}, not ${o.authority}` });
  if (req.body.organization === o.authority) findings.push({ code: 'SELF_ENDORSEMENT', severity: 'refuse', message: 'an authority does not endorse itself' });
  const proof = await checkRequestProof(req.body, req.proof, req.rootKey);
  if (proof) findings.push({ code: 'PROOF_OF_POSSESSION', severity: 'refuse', message: proof });
  else findings.push({ code: 'PROOF_OK', severity: 'info', message: `signed by the root key ${req.rootKey.jwsKid} it asks to be endorsed` });

  let commitment: Review['commitment'];
  try {
    const outcome = await o.commitments.check({ era: 'jws', issuer: req.body.organization, host: req.host, kid: req.rootKey.jwsKid, publicKey: req.rootKey.jwk as JsonWebKey, logs: req.log, now: new Date(o.now * 1000) });
    commitment = outcome.status;
    const detail = outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    if (outcome.status === 'verified') findings.push({ code: 'COMMITMENT_VERIFIED', severity: 'info', message: `root key ${req.rootKey.jwsKid} is committed for ${req.body.organization} in CT (${req.log.length} log entr${req.log.length === 1 ? 'y' : 'ies'})` });
    else if (outcome.status === 'failed') {
      const names = outcome.errors.some((e) => e.code === 'CT_BINDING_NAME_MISSING');
      findings.push({ code: names ? 'BINDING_NAME_MISMATCH' : 'COMMITMENT_FAILED', severity: 'refuse', message: `${names ? `the binding certificate does not name ${req.rootKey.jwsKid}.adem-configuration.${req.host} and ${req.host}` : 'the root key is not committed in CT'} (${detail})` });
    } else if (outcome.status === 'unavailable') findings.push({ code: 'COMMITMENT_UNAVAILABLE', severity: 'warning', message: `the CT commitment could not be checked (indeterminate, not refused: check again when the logs answer): ${detail}` });
    else findings.push({ code: 'COMMITMENT_SKIPPED', severity: 'warning', message: 'the CT commitment was not checked (skipped on request)' });
  } catch (err) {
    commitment = 'unavailable';
    findings.push({ code: 'COMMITMENT_UNAVAILABLE', severity: 'warning', message: `the CT commitment could not be checked: ${(err as Error).message}` });
  }
  findings.push(...constraintFindings(req));
  let published = DNS_NOT_CHECKED;
  if (o.dns) {
    const r = await reviewPublished(req, o.dns);
    published = r.published;
    findings.push(...r.findings);
  } else findings.push({ code: 'DNS_NOT_CHECKED', severity: 'info', message: 'what the organisation publishes in DNS was not checked (no --resolver)' });
  const verdict: Verdict = findings.some((f) => f.severity === 'refuse') ? 'refuse' : findings.some((f) => f.severity === 'warning') ? 'warnings' : 'ok';
  return {
    verdict,
    findings,
    organization: req.body.organization,
    kid: req.rootKey.jwsKid,
    coseKid: req.rootKey.coseKidText,
    constraints: req.body.constraints,
    contact: req.body.contact,
    createdAt: req.body.createdAt,
    commitment,
    eras: req.eras,
    published,
  };
}

function publishedLines(p: PublishedReview): string[] {
  if (!p.checked) return ['  published in DNS: not checked (no --resolver; no DNS queries made)'];
  const lines = [`  published in DNS (via ${p.resolver}):`];
  for (const n of p.names) {
    const sets = n.sets.map((s) => (s.valid ? `${s.era} set by ${s.issuer ?? '?'}${s.rootKeyMatches ? '' : ' (other root key)'} marking ${s.assets.join(', ')}${s.outsideConstraints.length ? ` [outside: ${s.outsideConstraints.join(', ')}]` : ''}` : `${s.era} set that does not verify`));
    const what = n.status === 'error' ? 'no answer (indeterminate)' : sets.length ? sets.join('; ') : `nothing (${n.status})`;
    lines.push(`    ${n.name}${n.wildcard ? ` (for ${n.asset})` : ''}: ${what}`);
  }
  if (p.skippedNames.length) lines.push(`    ${p.skippedNames.length} more name(s) not looked up`);
  return lines;
}

/** The one-screen summary an authority reads before signing. */
export function formatReview(r: Review): string {
  const c = r.constraints;
  const lines = [
    `Request from ${r.organization} (made ${r.createdAt})${r.contact ? `, contact: ${r.contact}` : ''}`,
    `  root key: ${r.kid} (CWT kid ${r.coseKid})`,
    `  commitment in CT: ${r.commitment}`,
    `  eras: ${r.eras.join(', ')}${r.eras.includes('cwt') ? ' (the CWT endorsement carries purposes only)' : ''}`,
    `  asks to be endorsed for: ${c.assets ? c.assets.join(', ') : 'ANY asset'}; purposes ${c.purposes ? c.purposes.join(', ') : 'any'}; emblem lifetime ${c.maxLifetime !== undefined ? `at most ${Math.round(c.maxLifetime / 86_400 * 100) / 100} days` : 'unlimited'}`,
    ...publishedLines(r.published),
    '',
    ...r.findings.map((f) => `  ${f.severity.toUpperCase().padEnd(7)} ${f.code}: ${f.message}`),
    '',
    `Verdict: ${r.verdict}`,
  ];
  return `${lines.join('\n')}\n`;
}
