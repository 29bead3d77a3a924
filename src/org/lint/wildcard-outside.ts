import type { LintRule } from './rule.js';

/** A wildcard outside the organisation's own domain would mark names the organisation does not control. */
export const wildcardOutside: LintRule = {
  code: 'WILDCARD_OUTSIDE_ORGANIZATION',
  check: (ctx) =>
    ctx.config.assets
      .filter((a) => a.startsWith('*.'))
      .filter((a) => {
        const base = a.slice(2).toLowerCase();
        return !(base === ctx.host || base.endsWith(`.${ctx.host}`));
      })
      .map((a) => ({ code: 'WILDCARD_OUTSIDE_ORGANIZATION', severity: 'error' as const, message: `wildcard ${a} is outside ${ctx.host}`, fix: `list the names one by one, or use a wildcard under ${ctx.host}` })),
};
