import { isMoreGeneral, parseAssetIdentifier } from '../../core/identifiers/asset.js';
import type { Finding, LintRule } from './rule.js';

/**
 * Received endorsements constrain what the organisation may mark: an asset outside their `emb.assets` verifies
 * without the endorsement (a lower level than expected), a lifetime over `emb.wnd` breaks the chain.
 */
function covered(allowed: string[], asset: string): boolean {
  let target;
  try {
    target = parseAssetIdentifier(asset);
  } catch {
    return false;
  }
  return allowed.some((e) => {
    try {
      return isMoreGeneral(parseAssetIdentifier(e), target);
    } catch {
      return false;
    }
  });
}

export const endorsementConstraints: LintRule = {
  code: 'ENDORSEMENT_CONSTRAINTS',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const { file, claims } of ctx.endorsements) {
      const emb = (claims.emb ?? {}) as { assets?: string[]; wnd?: number };
      if (Array.isArray(emb.assets)) {
        for (const a of ctx.config.assets) {
          if (!covered(emb.assets, a)) {
            out.push({ code: 'ASSET_NOT_ENDORSED', severity: 'warning', message: `asset ${a} is outside the constraints of ${file} (${emb.assets.join(', ')}): it would verify without that endorsement`, fix: 'ask the authority to extend the endorsement, or remove the asset' });
          }
        }
      }
      if (typeof emb.wnd === 'number' && ctx.lifetime > emb.wnd) {
        out.push({ code: 'LIFETIME_OVER_WINDOW', severity: 'error', message: `lifetime ${ctx.lifetime}s exceeds wnd ${emb.wnd}s of ${file}`, fix: `set lifetime to at most ${emb.wnd}s` });
      }
    }
    return out;
  },
};
