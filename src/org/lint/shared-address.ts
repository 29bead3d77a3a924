import type { Finding, LintRule } from './rule.js';

/**
 * An address asset that other names in the zone also point at (a shared host, a CDN) marks other people's
 * services too. Only zones we can read (zonefile channels) are checked; CDN ranges are cdn-address.ts.
 */
export const sharedAddress: LintRule = {
  code: 'ADDRESS_SHARED',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const a of ctx.config.assets) {
      const m = /^\[([^\]/]+)\]$/.exec(a);
      if (!m) continue;
      const users = [...ctx.zoneAddresses].filter(([, ips]) => ips.includes(m[1]!)).map(([n]) => n);
      if (users.length > 1) out.push({ code: 'ADDRESS_SHARED', severity: 'warning', message: `address ${a} is used by ${users.length} names (${users.slice(0, 5).join(', ')})`, fix: 'mark the names instead of the shared address' });
    }
    return out;
  },
};
