import type { Finding, LintRule } from './rule.js';

/** Above 1,232 bytes (the DNS Flag Day 2020 EDNS size) an answer needs TCP, which some validators never try. */
export const rrsetSize: LintRule = {
  code: 'RRSET_TOO_LARGE',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const [asset, a] of Object.entries(ctx.state.assets)) {
      const set = a.pending ?? a.current;
      if (!set) continue;
      const perType = new Map<number, number>();
      for (const r of set.records) perType.set(r.type, (perType.get(r.type) ?? 0) + r.rdata.length / 2 + 12 + r.name.length);
      for (const [type, bytes] of perType) {
        if (bytes > 1232) out.push({ code: 'RRSET_TOO_LARGE', severity: 'warning', message: `${asset}: the ${type === 16 ? 'TXT' : 'IHLE'} RRset is about ${bytes} bytes (> 1232): TCP needed`, fix: 'use ES256 keys, name keys by kid instead of embedding them, or publish one era' });
      }
    }
    return out;
  },
};
