import { EmblemError } from '../core/errors.js';
import { isMoreGeneral, parseAssetIdentifier } from '../core/identifiers/asset.js';
import type { RequestedConstraints } from './request.js';

function covers(general: string, specific: string): boolean {
  if (general === specific) return true;
  return isMoreGeneral(parseAssetIdentifier(general), parseAssetIdentifier(specific));
}

/**
 * What grant signs: the request's constraints, narrowed by the authority's flags. Narrowing only: an asset not
 * covered by a requested one, a purpose not requested, or a longer lifetime than requested is CONSTRAINT_WIDENED.
 * (An absent requested constraint is "anything", so any given value narrows it.)
 */
export function narrowConstraints(requested: RequestedConstraints, narrowing: RequestedConstraints): RequestedConstraints {
  const out: RequestedConstraints = { ...requested };
  if (narrowing.assets) {
    for (const a of narrowing.assets) {
      if (requested.assets && !requested.assets.some((r) => covers(r, a))) {
        throw new EmblemError('CONSTRAINT_WIDENED', `--constrain-asset ${a} is not within the requested assets (${requested.assets.join(', ')}); grant only narrows`);
      }
    }
    out.assets = narrowing.assets;
  }
  if (narrowing.purposes) {
    for (const p of narrowing.purposes) {
      if (requested.purposes && !requested.purposes.includes(p)) throw new EmblemError('CONSTRAINT_WIDENED', `--constrain-purpose ${p} was not requested (${requested.purposes.join(', ')}); grant only narrows`);
    }
    out.purposes = narrowing.purposes;
  }
  if (narrowing.maxLifetime !== undefined) {
    if (requested.maxLifetime !== undefined && narrowing.maxLifetime > requested.maxLifetime) {
      throw new EmblemError('CONSTRAINT_WIDENED', `--max-lifetime ${narrowing.maxLifetime}s is longer than the requested ${requested.maxLifetime}s; grant only narrows`);
    }
    out.maxLifetime = narrowing.maxLifetime;
  }
  return out;
}
