import { EmblemError } from '../errors.js';
import { Limits } from '../limits.js';
import { constraintViolation } from './constraints.js';
import type { VerifiedToken } from './signature-step.js';

/**
 * CORE-01 §5.1 / CORE-02 §8 step 4, the internal chain: the endorsements sharing the emblem's `iss` must form
 * one chain with a unique root that transitively endorses the emblem key. "Endorses" = the endorsement's `key`
 * is the token's signing kid and its `sub` equals the token's `iss` (both absent counts as equal). Every link
 * above the emblem's direct endorser must have `end=true`, and the emblem must be valid w.r.t. every link.
 * Returns the chain from the emblem's direct endorser up to the root. Cycles, branches, stray endorsements and
 * over-long chains are errors, so the walk always terminates.
 */
export function buildInternalChain(emblem: VerifiedToken, internal: VerifiedToken[]): VerifiedToken[] {
  const chain: VerifiedToken[] = [];
  const seenKids = new Set([emblem.signerKid]);
  let current = emblem;
  for (;;) {
    const endorsers = internal.filter((e) => e.token.claims.key === current.signerKid && e.token.claims.sub === current.token.claims.iss);
    if (endorsers.length === 0) break;
    if (endorsers.length > 1) {
      throw new EmblemError('CHAIN_BRANCHED', `${endorsers.length} endorsements of the same key ${current.signerKid}: the chain must be linear`);
    }
    const next = endorsers[0]!;
    if (seenKids.has(next.signerKid)) {
      throw new EmblemError('CHAIN_CYCLE', `endorsement chain loops back to key ${next.signerKid}`);
    }
    if (chain.length >= Limits.maxChainDepth) {
      throw new EmblemError('LIMIT_EXCEEDED', `endorsement chain longer than ${Limits.maxChainDepth}`);
    }
    seenKids.add(next.signerKid);
    chain.push(next);
    current = next;
  }
  const stray = internal.filter((e) => !chain.includes(e));
  if (stray.length > 0) {
    throw new EmblemError(
      'CHAIN_BROKEN',
      `${stray.length} endorsement(s) by the emblem's issuer are not part of the chain to the emblem key (e.g. of key ${stray[0]!.token.claims.key})`,
    );
  }
  chain.forEach((link, i) => {
    if (i > 0 && !link.token.claims.end) {
      throw new EmblemError('ENDORSEMENT_NOT_TRANSITIVE', `endorsement of key ${link.token.claims.key} has end=false but endorses a key that endorses further`);
    }
    const violation = constraintViolation(emblem.token, link.token);
    if (violation) throw violation;
  });
  return chain;
}
