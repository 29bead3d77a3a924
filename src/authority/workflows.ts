import { readFile, stat } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { verifyMaterial } from '../core/verify/index.js';
import { parseResolverSpec } from '../dns/resolver.js';
import { AuthorityLimits } from './limits.js';
import { parseConstraints, parseRequest } from './request.js';
import { checkFreshness, cwtUnsupported, reviewRequest } from './review.js';
import { narrowConstraints } from './narrow.js';
import { issue, refuseExisting, signEndorsement } from './grant.js';
import { Registry, type EndorsementRecord } from './registry.js';
import type { openAuthority } from './runtime.js';

/**
 * The authority's workflows shared by `emblem authority …` and the API (`/api/authority/*`): each returns what
 * the command prints with --json.
 */
type AuthorityRuntime = Awaited<ReturnType<typeof openAuthority>>;

const iso = (s: number) => new Date(s * 1000).toISOString();

export function recordJson(r: EndorsementRecord, now: number) {
  return {
    organization: r.organization,
    kid: r.kid,
    status: r.status === 'active' && r.expires <= now ? 'expired' : r.status,
    expires: iso(r.expires),
    id: r.id,
    coseKid: r.coseKid,
    issued: iso(r.issued),
    constraints: r.constraints,
    ...(r.reason ? { reason: r.reason, revokedAt: iso(r.revokedAt!) } : {}),
    issuedFile: r.issuedFile,
    responseFile: r.responseFile,
    requestFile: r.requestFile,
    renewedFrom: r.renewedFrom,
  };
}

/** A request text (bounded) parsed. */
export function parseRequestText(text: string) {
  if (Buffer.byteLength(text) > AuthorityLimits.maxRequestBytes) throw new EmblemError('LIMIT_EXCEEDED', `the request is larger than ${AuthorityLimits.maxRequestBytes} bytes`);
  return { text, request: parseRequest(text) };
}

export async function readRequestFile(path: string) {
  const size = (await stat(path).catch(() => null))?.size;
  if (size === undefined) throw new EmblemError('USAGE', `cannot read ${path}`);
  if (size > AuthorityLimits.maxRequestBytes) throw new EmblemError('LIMIT_EXCEEDED', `${path} is ${size} bytes (limit ${AuthorityLimits.maxRequestBytes})`);
  const text = await readFile(path, 'utf8');
  return { text, request: parseRequest(text) };
}

/** `authority list [--expiring D]`. */
export async function listWorkflow(dir: string, now: number, expiringSeconds?: number) {
  const reg = await Registry.open(dir, { now });
  try {
    const rows = reg.list(expiringSeconds !== undefined ? { expiringBefore: now + expiringSeconds } : {});
    return { endorsements: rows.map((r) => recordJson(r, now)) };
  } finally {
    reg.close();
  }
}

export interface ReviewInput {
  requestText: string;
  logList?: string[];
  skipCommitmentCheck?: boolean;
  /** ip[:port]: also look up what the organisation publishes (never the assets); none = no DNS query. */
  resolver?: string;
  timeoutMs?: number;
}

/** `authority review`: the review (recorded as an event in the registry). */
export async function reviewWorkflow(rt: AuthorityRuntime, dir: string, input: ReviewInput) {
  const resolver = input.resolver !== undefined ? parseResolverSpec(input.resolver, undefined) : undefined;
  const { request } = parseRequestText(input.requestText);
  const reg = await Registry.open(dir, { now: rt.now });
  try {
    checkFreshness(request, { now: rt.now, maxAge: rt.maxRequestAge, nonceSeen: (n) => reg.nonceSeen(n) });
    const commitments = await rt.commitments({ ...(input.logList ? { logList: input.logList } : {}), skip: input.skipCommitmentCheck === true });
    let dns: Parameters<typeof reviewRequest>[1]['dns'];
    if (resolver) {
      const now = new Date(rt.now * 1000);
      dns = { resolver, timeoutMs: input.timeoutMs ?? 3000, verify: (material) => verifyMaterial(material, { now, trustedKeys: [], commitments }) };
    }
    const review = await reviewRequest(request, { authority: rt.config.authority, commitments, now: rt.now, ...(dns ? { dns } : {}) });
    reg.event(rt.now, 'review', { organization: review.organization, kid: review.kid, verdict: review.verdict, codes: review.findings.map((f) => f.code) });
    return review;
  } finally {
    reg.close();
  }
}

export interface GrantInput {
  requestText: string;
  /** The response file written (never overwritten). */
  out: string;
  lifetime?: number;
  acceptWarnings?: boolean;
  logList?: string[];
  skipCommitmentCheck?: boolean;
  narrowing?: { assets?: string[]; purposes?: string[]; maxLifetime?: number };
  cwtWithoutAssetConstraints?: boolean;
  /** Called with the review before signing (the CLI prints it on stderr). */
  onReview?: (review: Awaited<ReturnType<typeof reviewRequest>>) => void;
}

/** `authority grant`: review again, refuse or sign (never wider than requested), write the response, record it. */
export async function grantWorkflow(rt: AuthorityRuntime, dir: string, input: GrantInput) {
  const { text, request } = parseRequestText(input.requestText);
  refuseExisting(input.out);
  const reg = await Registry.open(dir, { now: rt.now });
  try {
    checkFreshness(request, { now: rt.now, maxAge: rt.maxRequestAge, nonceSeen: (n) => reg.nonceSeen(n) });
    const review = await reviewRequest(request, { authority: rt.config.authority, commitments: await rt.commitments({ ...(input.logList ? { logList: input.logList } : {}), skip: input.skipCommitmentCheck === true }), now: rt.now });
    input.onReview?.(review);
    const codes = review.findings.filter((f) => f.severity !== 'info').map((f) => f.code).join(', ');
    if (review.verdict === 'refuse') throw new EmblemError('GRANT_REFUSED', `review refuses this request (${codes}): nothing signed`);
    // CWT_CONSTRAINT_UNSUPPORTED has its own flag (checked on the granted constraints, after narrowing).
    const warnings = review.findings.filter((f) => f.severity === 'warning' && f.code !== 'CWT_CONSTRAINT_UNSUPPORTED');
    if (warnings.length > 0 && !input.acceptWarnings) throw new EmblemError('GRANT_REFUSED', `review has warnings (${codes}): read them, then grant again with --accept-warnings (or narrow with --constrain-…)`);
    let narrowing;
    try {
      const n = input.narrowing ?? {};
      narrowing = parseConstraints({ ...(n.assets ? { assets: n.assets } : {}), ...(n.purposes ? { purposes: n.purposes } : {}), ...(n.maxLifetime !== undefined ? { maxLifetime: n.maxLifetime } : {}) }, 'narrowing');
    } catch (err) {
      throw new EmblemError('USAGE', (err as Error).message);
    }
    const constraints = narrowConstraints(request.body.constraints, narrowing);
    const lifetime = input.lifetime ?? rt.lifetime;
    const cwtWarning = cwtUnsupported(request.eras, constraints);
    const response = await signEndorsement(rt, { organization: request.body.organization, rootKey: request.rootKey, constraints, lifetime, now: rt.now, eras: request.eras, cwtWithoutAssetConstraints: input.cwtWithoutAssetConstraints === true });
    const rec = await issue(rt, reg, response, { out: input.out, requestText: text, requestFile: null, nonce: request.body.nonce });
    const eras = response.endorsements.cwt ? ['jws', 'cwt'] : ['jws'];
    const warning = cwtWarning ? { code: 'CWT_CONSTRAINT_UNSUPPORTED', severity: 'warning', message: cwtWarning.replace(/; grant signs it only with .*$/, ' (accepted with --cwt-without-asset-constraints)') } : null;
    return { rec, json: { ...recordJson(rec, rt.now), out: input.out, eras, ...(warning ? { warnings: [warning] } : {}), review: { verdict: review.verdict, findings: review.findings } }, warning, eras };
  } finally {
    reg.close();
  }
}
