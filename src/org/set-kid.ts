import { joinTxtRdata } from '../dns/character-strings.js';
import type { SetState } from './state.js';

/**
 * The JWS kid of the emblem key that signed a set: recorded at signing time (`emblemKid`), or, for a state written
 * before that field existed, read from the protected header of the set's JWS emblem (cty adem-emb) in its records.
 * Null when neither says (a CWT-only set from an old state): such a set is renewed on its normal schedule.
 */
export function signingKid(set: SetState | null | undefined): string | null {
  if (!set) return null;
  if (typeof set.emblemKid === 'string') return set.emblemKid;
  for (const r of set.records) {
    if (r.type !== 16) continue;
    const text = joinTxtRdata(Buffer.from(r.rdata, 'hex')).toString('latin1');
    const m = /^adem-token(?:-[^=]*)?=([A-Za-z0-9_-]+)\./.exec(text);
    if (!m) continue;
    try {
      // Our own state file, but parsed defensively: a damaged header is "unknown", never an exception.
      const header = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { cty?: unknown; kid?: unknown };
      if (header.cty === 'adem-emb' && typeof header.kid === 'string') return header.kid;
    } catch {
      continue;
    }
  }
  return null;
}
