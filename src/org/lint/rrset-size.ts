import type { Finding, LintRule } from './rule.js';

/**
 * Above 1,232 bytes (the DNS Flag Day 2020 EDNS size) an answer needs TCP, which some validators never try.
 * The size is that of the whole response carrying the RRset: header, question, each record (owner compressed to a
 * pointer) and the EDNS OPT record.
 */
export function responseBytes(owner: string, rdataLengths: number[]): number {
  const nameWire = owner.length + 2;
  return 12 + nameWire + 4 + rdataLengths.reduce((n, len) => n + 2 + 10 + len, 0) + 11;
}

export const rrsetSize: LintRule = {
  code: 'RRSET_TOO_LARGE',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const [asset, a] of Object.entries(ctx.state.assets)) {
      const set = a.pending ?? a.current;
      if (!set) continue;
      const perType = new Map<string, { owner: string; type: number; lengths: number[] }>();
      for (const r of set.records) {
        const k = `${r.name}|${r.type}`;
        const e = perType.get(k) ?? { owner: r.name, type: r.type, lengths: [] };
        e.lengths.push(r.rdata.length / 2);
        perType.set(k, e);
      }
      for (const { owner, type, lengths } of perType.values()) {
        // During a renewal the new generation is published next to the old one until it verifies: twice the records.
        const bytes = responseBytes(owner, lengths);
        const overlap = responseBytes(owner, [...lengths, ...lengths]);
        if (overlap > 1232) {
          out.push({
            code: 'RRSET_TOO_LARGE',
            severity: 'warning',
            message: `${asset}: the answer with the ${type === 16 ? 'TXT' : 'IHLE'} RRset at ${owner} is ${bytes} bytes, ${overlap} while a renewal publishes two generations (> 1232): TCP needed`,
            fix: 'use ES256 keys, name keys by kid instead of embedding them, or publish one era',
          });
        }
      }
    }
    return out;
  },
};
