import { isMoreGeneral, parseAssetIdentifier, type AssetIdentifier } from '../../core/identifiers/asset.js';
import { CDN_RANGES } from './cdn-ranges.js';
import type { Finding, LintRule } from './rule.js';

const parsed = CDN_RANGES.flatMap((list) => list.ranges.map((r) => ({ list, range: r, id: parseAssetIdentifier(`[${r}]`) })));

function parse(asset: string): AssetIdentifier | null {
  try {
    const id = parseAssetIdentifier(asset);
    return id.kind === 'address' ? id : null;
  } catch {
    return null;
  }
}

/**
 * An address asset inside (or a prefix covering) a published CDN range: the CDN serves many customers from the
 * same addresses, so the emblem would mark other people's services. Checked against the dated list that ships
 * with emblem (cdn-ranges.ts).
 */
export const cdnAddress: LintRule = {
  code: 'ADDRESS_IN_CDN_RANGE',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const asset of ctx.config.assets) {
      const id = parse(asset);
      if (!id) continue;
      const hit = parsed.find((c) => isMoreGeneral(c.id, id) || isMoreGeneral(id, c.id));
      if (!hit) continue;
      out.push({
        code: 'ADDRESS_IN_CDN_RANGE',
        severity: 'error',
        message: `asset ${asset} overlaps ${hit.list.provider}'s published range ${hit.range} (list as of ${hit.list.asOf}): the CDN's other customers share these addresses and would be marked too`,
        fix: 'mark the organisation\'s names (served through the CDN) instead of the CDN\'s addresses',
      });
    }
    return out;
  },
};
