import { EmblemError } from '../errors.js';
import { isMoreGeneral } from '../identifiers/asset.js';
import { distributionNames, purposeNames, type Token } from '../tokens/token.js';

/**
 * "Emblem valid w.r.t. an endorsement" (CORE-01 §5, CORE-02 §7). Each constraint the endorsement states must hold;
 * a constraint it omits does not restrict. An emblem field that is missing is the empty set.
 *   prp: emblem purposes ⊆ permitted purposes (CORE-02: endorsement.prp & emblem.prp == emblem.prp)
 *   dst: emblem distribution methods ⊆ permitted ones (JWS)
 *   assets: every emblem asset has a more general permitted asset (JWS)
 *   wnd: exp - nbf <= wnd (JWS)
 * Returns the violation, or null.
 */
export function constraintViolation(emblem: Token, endorsement: Token): EmblemError | null {
  const e = emblem.claims;
  const c = endorsement.claims;
  const emblemPurposes = e.purposes ?? 0;
  if (c.purposes !== null && (c.purposes & emblemPurposes) !== emblemPurposes) {
    return new EmblemError(
      'CONSTRAINT_VIOLATED',
      `emblem purposes [${purposeNames(emblemPurposes).join(', ')}] exceed those permitted [${purposeNames(c.purposes).join(', ')}]`,
    );
  }
  const emblemDistribution = e.distribution ?? 0;
  if (c.distribution !== null && (c.distribution & emblemDistribution) !== emblemDistribution) {
    return new EmblemError(
      'CONSTRAINT_VIOLATED',
      `emblem distribution methods [${distributionNames(emblemDistribution).join(', ')}] exceed those permitted [${distributionNames(c.distribution).join(', ')}]`,
    );
  }
  if (c.constraintAssets !== null) {
    for (const asset of e.parsedAssets ?? []) {
      if (!c.constraintAssets.some((allowed) => isMoreGeneral(allowed, asset))) {
        return new EmblemError('CONSTRAINT_VIOLATED', `asset ${asset.text} is not covered by the endorsement's asset constraints`);
      }
    }
  }
  if (c.window !== null && e.exp - e.nbf > c.window) {
    return new EmblemError('CONSTRAINT_VIOLATED', `emblem lifetime ${e.exp - e.nbf}s exceeds the permitted window of ${c.window}s`);
  }
  return null;
}
