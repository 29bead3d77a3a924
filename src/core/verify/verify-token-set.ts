import { EmblemError, type ReportedError } from '../errors.js';
import { parseOrganizationIdentifier } from '../identifiers/organization.js';
import { Limits } from '../limits.js';
import { kidOf, type PublicKey, type SignatureVerifier } from '../tokens/keys.js';
import { distributionNames, purposeNames, type Era, type Token } from '../tokens/token.js';
import { buildInternalChain } from './chain.js';
import type { CommitmentChecker, CommitmentOutcome } from './commitment.js';
import { constraintViolation } from './constraints.js';
import type { CommitmentReport, ContestedCandidate, Level, NotEstablishedLevel, VerificationReport } from './report.js';
import { combineLevels, type AchievedLevel } from './result.js';
import type { SignatureCache } from './signature-cache.js';
import { describe, KeyRing, verifyTokenSignature, type VerifiedToken } from './signature-step.js';

export interface VerificationPolicy {
  /**
   * What a chain that no commitment or trusted key authenticates (an emblem without `iss`) yields.
   * "spec" (default): SIGNED-UNTRUSTED, as CORE-01/-02 say. "prototype": INVALID unless a token is signed by a
   * trusted key, as the Go and JS prototypes do (they accept only keys reached from a logged root or a trusted key).
   */
  unauthenticatedChain?: 'spec' | 'prototype';
}

export interface TokenSetOptions {
  now: Date;
  commitments: CommitmentChecker;
  trustedKeys?: PublicKey[];
  policy?: VerificationPolicy;
  cache?: SignatureCache;
  /**
   * Verifies this set's signatures instead of the process-wide default (useSignatureVerifier). A Node caller passes
   * an asynchronous one (src/crypto/thread-pool-signature-verifier.ts) so several sets in flight use several cores.
   */
  verifier?: SignatureVerifier;
}

/** Collects errors without letting hostile input grow the report without bound. */
export class ErrorList {
  readonly items: ReportedError[] = [];
  private dropped = 0;
  add(code: string, message: string): void {
    if (this.items.length < Limits.maxReportedErrors) this.items.push({ code, message });
    else this.dropped++;
  }
  addError(err: EmblemError): void {
    this.add(err.code, err.message);
  }
  finish(): ReportedError[] {
    if (this.dropped > 0) return [...this.items, { code: 'LIMIT_EXCEEDED', message: `${this.dropped} more errors not shown` }];
    return this.items;
  }
}

function emptyReport(era: Era | null, now: Date, errors: ErrorList, result: 'INVALID' | 'UNSIGNED', commitment: CommitmentReport = 'not-required'): VerificationReport {
  return {
    era, result: [result], levels: [], protected: [], issuer: null, endorsedBy: [],
    commitment, errors: errors.finish(), emblem: null, verifiedAt: now.toISOString(),
  };
}

/**
 * The ADEM verification procedure for one token set of one era (SPEC-NOTES §1.4): CORE-02 §8 steps, reporting
 * both the CORE-02 levels and the CORE-01 TRUSTED/UNTRUSTED result. Differences between the drafts are handled
 * per era: in the JWS era (CORE-01) a same-issuer endorsement that fails its signature or time check makes the
 * set INVALID ("verify every signature ... none expired"); in the CWT era (CORE-02 step 2) it is discarded.
 */
export async function verifyTokenSet(era: Era, tokens: Token[], keys: PublicKey[], options: TokenSetOptions, errors: ErrorList, sawUnsigned = false): Promise<VerificationReport> {
  const now = options.now;
  const nowSeconds = now.getTime() / 1000;
  const ring = new KeyRing(era);
  for (const k of keys) ring.add(k);
  const trustedKids = new Set<string>();
  for (const k of options.trustedKeys ?? []) {
    ring.add(k);
    trustedKids.add(kidOf(k, era));
  }

  const checked = await Promise.all(tokens.map((t) => verifyTokenSignature(t, ring, nowSeconds, options.cache, options.verifier)));
  const valid: VerifiedToken[] = [];
  const failed: Array<{ token: Token; error: EmblemError }> = [];
  for (const r of checked) {
    if (r.ok) valid.push(r.verified);
    else {
      failed.push(r);
      errors.addError(r.error);
    }
  }

  // Step 3: exactly one valid emblem.
  const emblems = valid.filter((v) => v.token.kind === 'emblem');
  if (emblems.length === 0) {
    if (sawUnsigned) return emptyReport(era, now, errors, 'UNSIGNED');
    if (!tokens.some((t) => t.kind === 'emblem')) errors.add('NO_EMBLEM', 'the token set contains no emblem');
    else errors.add('NO_EMBLEM', 'no emblem in the set passed signature and validity checks');
    return emptyReport(era, now, errors, 'INVALID');
  }
  if (emblems.length > 1) {
    errors.add('MULTIPLE_EMBLEMS', `the token set contains ${emblems.length} valid emblems; exactly one is allowed`);
    const report = emptyReport(era, now, errors, 'INVALID');
    const contested = await contestedCandidates(era, emblems, valid, failed, trustedKids, options);
    if (contested.length > 0) report.contested = contested;
    return report;
  }
  return verifyWithEmblem(era, emblems[0]!, valid, failed, trustedKids, options, errors);
}

/**
 * The spec makes a set with several valid emblems INVALID (step 3), and that result stands. But a validly
 * self-signed emblem appended to a genuine set must not hide the genuine chain from the validator: each emblem
 * that names an issuer is verified alone with the rest of the set, and those reaching ORGANIZATIONAL or above
 * (or blocked from it only because a commitment could not be checked) are reported as contested candidates.
 */
async function contestedCandidates(
  era: Era,
  emblems: VerifiedToken[],
  valid: VerifiedToken[],
  failed: Array<{ token: Token; error: EmblemError }>,
  trustedKids: Set<string>,
  options: TokenSetOptions,
): Promise<ContestedCandidate[]> {
  const named = emblems.filter((e) => e.token.claims.iss !== null).slice(0, Limits.maxContestedEmblems);
  const candidates: ContestedCandidate[] = [];
  for (const emblem of named) {
    const others = valid.filter((v) => v.token.kind !== 'emblem' || v === emblem);
    const alone = await verifyWithEmblem(era, emblem, others, failed, trustedKids, options, new ErrorList());
    const organizational = alone.levels.includes('ORGANIZATIONAL') || (alone.notEstablished ?? []).some((n) => n.level === 'ORGANIZATIONAL');
    if (!organizational || !alone.emblem) continue;
    candidates.push({
      result: alone.result,
      levels: alone.levels,
      protected: alone.protected,
      issuer: alone.issuer,
      endorsedBy: alone.endorsedBy,
      commitment: alone.commitment,
      emblem: alone.emblem,
      ...(alone.notEstablished ? { notEstablished: alone.notEstablished } : {}),
    });
  }
  return candidates;
}

/** Steps 4-8 for the one valid emblem of the set. */
async function verifyWithEmblem(
  era: Era,
  emblem: VerifiedToken,
  valid: VerifiedToken[],
  failed: Array<{ token: Token; error: EmblemError }>,
  trustedKids: Set<string>,
  options: TokenSetOptions,
  errors: ErrorList,
): Promise<VerificationReport> {
  const now = options.now;
  const iss = emblem.token.claims.iss;
  const invalid = (err: EmblemError, commitment?: CommitmentReport): VerificationReport => {
    errors.addError(err);
    return emptyReport(era, now, errors, 'INVALID', commitment);
  };

  // Step 4, signed procedure, on the endorsements sharing the emblem's iss (absent == absent).
  if (era === 'jws') {
    const broken = failed.find((f) => f.token.kind === 'endorsement' && f.token.claims.iss === iss);
    if (broken) return invalid(new EmblemError('CHAIN_BROKEN', `${describe(broken.token)} failed verification (${broken.error.code})`));
  }
  const internal = valid.filter((v) => v.token.kind === 'endorsement' && v.token.claims.iss === iss);
  let chain: VerifiedToken[];
  try {
    chain = buildInternalChain(emblem, internal);
  } catch (err) {
    return invalid(err as EmblemError);
  }
  const chainTokens = [emblem, ...chain];
  const achieved: AchievedLevel[] = [{ level: 'SIGNED', trusted: chainTokens.some((t) => trustedKids.has(t.signerKid)) }];
  const summary = {
    kid: emblem.signerKid,
    purposes: purposeNames(emblem.token.claims.purposes ?? 0),
    distribution: distributionNames(emblem.token.claims.distribution ?? 0),
    notBefore: new Date(emblem.token.claims.nbf * 1000).toISOString(),
    expires: new Date(emblem.token.claims.exp * 1000).toISOString(),
    issuedAt: emblem.token.claims.iat === null ? null : new Date(emblem.token.claims.iat * 1000).toISOString(),
    chain: chainTokens.map((t) => t.signerKid),
  };
  const notEstablished: NotEstablishedLevel[] = [];
  const report = (commitment: CommitmentReport, endorsedBy: string[]): VerificationReport => ({
    era,
    result: combineLevels(achieved),
    levels: achieved.map((a) => a.level) as Level[],
    protected: [...(emblem.token.claims.assets ?? [])],
    issuer: iss,
    endorsedBy,
    commitment: notEstablished.length > 0 ? 'unavailable' : commitment,
    ...(notEstablished.length > 0 ? { notEstablished } : {}),
    errors: errors.finish(),
    emblem: summary,
    verifiedAt: now.toISOString(),
  });

  // Step 5: without iss the result stands (unless the policy wants every chain authenticated).
  if (iss === null) {
    if (options.policy?.unauthenticatedChain === 'prototype' && !achieved[0]!.trusted) {
      return invalid(new EmblemError('CHAIN_NOT_AUTHENTICATED', 'no issuer commitment and no trusted key authenticates this emblem (prototype policy)'));
    }
    return report('not-required', []);
  }

  // Step 6, organizational: the top of the internal chain carries `log`, and its key is committed for iss in CT.
  const root = chain[chain.length - 1];
  if (!root) return invalid(new EmblemError('ROOT_LOG_MISSING', `the emblem names issuer ${iss} but no endorsement by ${iss} authenticates its key`));
  if (!root.token.claims.log) return invalid(new EmblemError('ROOT_LOG_MISSING', `the root endorsement of ${iss} has no "log" pointing to its key's commitment`));
  const externals = valid.filter((v) => v.token.kind === 'endorsement' && v.token.claims.iss !== null && v.token.claims.iss !== iss);
  const rootCommitment = await checkCommitment(options, era, root);
  if (rootCommitment.status === 'failed') {
    for (const e of rootCommitment.errors) errors.add(e.code, e.message);
    return invalid(new EmblemError('COMMITMENT_FAILED', `the root key ${root.signerKid} of ${iss} is not committed in Certificate Transparency`), 'failed');
  }
  if (rootCommitment.status === 'unavailable') {
    // Could not check is not "not committed": the result is what was proven (SIGNED), and the report says which
    // levels wait on the commitment and why.
    for (const e of rootCommitment.errors) errors.add(e.code, e.message);
    const codes = [...new Set(rootCommitment.errors.map((e) => String(e.code)))];
    notEstablished.push({ level: 'ORGANIZATIONAL', issuer: iss, codes, message: `the root key ${root.signerKid} of ${iss}: its Certificate Transparency commitment could not be checked` });
    if (externals.length > 0) {
      notEstablished.push({ level: 'ENDORSED', issuer: iss, codes, message: `endorsements of ${iss} count only once its own root key's commitment is established` });
    }
    return report('unavailable', []);
  }
  achieved.push({ level: 'ORGANIZATIONAL', trusted: trustedKids.has(root.signerKid) });

  // Steps 7-8, endorsed: endorsements by other organisations of the root key. Failures drop only that endorsement.
  const accepted = await Promise.all(externals.map((x) => acceptExternal(x, emblem, root, options, era, errors)));
  const survivors = externals.filter((_, i) => accepted[i] === true);
  if (survivors.length > 0) {
    achieved.push({ level: 'ENDORSED', trusted: survivors.some((s) => trustedKids.has(s.signerKid)) });
  }
  // An endorsement whose commitment could not be checked is neither counted nor dropped as false: when no other
  // endorsement established ENDORSED (or one of them might make it TRUSTED), the report says what is missing.
  const endorsedTrusted = achieved.some((a) => a.level === 'ENDORSED' && a.trusted);
  externals.forEach((x, i) => {
    const outcome = accepted[i];
    if (typeof outcome !== 'object') return;
    const couldRaise = survivors.length === 0 || (trustedKids.has(x.signerKid) && !endorsedTrusted);
    if (!couldRaise) return;
    const codes = [...new Set(outcome.errors.map((e) => String(e.code)))];
    notEstablished.push({ level: 'ENDORSED', issuer: x.token.claims.iss, codes, message: `the endorsement by ${x.token.claims.iss}: the commitment of its key could not be checked` });
  });
  const endorsedBy = [...new Set(survivors.map((s) => s.token.claims.iss!))];
  return report(rootCommitment.status, endorsedBy);
}

async function checkCommitment(options: TokenSetOptions, era: Era, holder: VerifiedToken): Promise<CommitmentOutcome> {
  const issuer = holder.token.claims.iss!;
  try {
    return await options.commitments.check({
      era,
      issuer,
      host: parseOrganizationIdentifier(issuer).host,
      kid: holder.signerKid,
      publicKey: holder.signer.jwk as JsonWebKey,
      logs: holder.token.claims.log ?? [],
      now: options.now,
    });
  } catch (err) {
    // A checker that throws (a bug, a dead worker) has not proven anything: could not check, never a crash.
    return { status: 'unavailable', errors: [{ code: 'COMMITMENT_UNAVAILABLE', message: (err as Error).message }] };
  }
}

/** true: accepted; false: dropped (proven wrong); the outcome itself when its commitment could not be checked. */
async function acceptExternal(x: VerifiedToken, emblem: VerifiedToken, root: VerifiedToken, options: TokenSetOptions, era: Era, errors: ErrorList): Promise<boolean | CommitmentOutcome> {
  const c = x.token.claims;
  const reject = (reason: string, code = 'ENDORSEMENT_REJECTED') => {
    errors.add(code, `endorsement by ${c.iss} dropped: ${reason}`);
    return false;
  };
  if (c.key !== root.signerKid || c.sub !== emblem.token.claims.iss) {
    return reject(`it does not endorse the root key ${root.signerKid} of ${emblem.token.claims.iss}`);
  }
  if (!c.end) return reject('it has end=false, so it cannot endorse a key that endorses further');
  const violation = constraintViolation(emblem.token, x.token);
  if (violation) return reject(violation.message, violation.code);
  if (!c.log) return reject(`it has no "log" committing the key of ${c.iss}`, 'ROOT_LOG_MISSING');
  const outcome = await checkCommitment(options, era, x);
  if (outcome.status === 'unavailable') {
    for (const e of outcome.errors) errors.add(e.code, e.message);
    errors.add('COMMITMENT_UNAVAILABLE', `endorsement by ${c.iss} not counted: the commitment of its key could not be checked`);
    return outcome;
  }
  if (outcome.status === 'failed') {
    for (const e of outcome.errors) errors.add(e.code, e.message);
    return reject(`the key of ${c.iss} is not committed in Certificate Transparency`, 'COMMITMENT_FAILED');
  }
  return true;
}
