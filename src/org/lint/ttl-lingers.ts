import type { LintRule } from './rule.js';

/** Caches keep a withdrawn record up to its TTL: a long TTL makes withdrawal slow. */
export const ttlLingers: LintRule = {
  code: 'TTL_LINGERS',
  check: (ctx) => {
    const max = ctx.config.lint?.maxCacheSeconds ?? 3600;
    return ctx.ttl > max
      ? [{ code: 'TTL_LINGERS', severity: 'warning' as const, message: `TTL ${ctx.ttl}s: a withdrawal lingers in caches up to ${ctx.ttl}s (configured limit ${max}s)`, fix: `set ttl to ${max} or less` }]
      : [];
  },
};
