import type { LintRule } from './rule.js';

/** A short prefix marks many hosts, most of them probably not the organisation's. */
export const shortPrefix: LintRule = {
  code: 'ASSET_PREFIX_TOO_SHORT',
  check: (ctx) => {
    const min4 = ctx.config.lint?.minPrefixV4 ?? 16;
    const min6 = ctx.config.lint?.minPrefixV6 ?? 32;
    const out = [];
    for (const a of ctx.config.assets) {
      const m = /^\[([^\]/]+)\/(\d{1,3})\]$/.exec(a);
      if (!m) continue;
      const v6 = m[1]!.includes(':');
      const min = v6 ? min6 : min4;
      if (Number(m[2]) < min) {
        out.push({ code: 'ASSET_PREFIX_TOO_SHORT', severity: 'error' as const, message: `asset ${a} is an IPv${v6 ? 6 : 4} prefix shorter than /${min}`, fix: `list the organisation's own addresses or a /${min} or longer (or set lint.minPrefixV${v6 ? 6 : 4})` });
      }
    }
    return out;
  },
};
