import type { Finding, LintRule } from './rule.js';

/** Without a binding certificate the root endorsement has no `log`; one that expires before the next renewal needs renewing first. */
export const bindingExpiry: LintRule = {
  code: 'BINDING',
  check: (ctx) => {
    const out: Finding[] = [];
    if (!ctx.config.binding?.log) {
      out.push({ code: 'BINDING_MISSING', severity: 'error', message: 'no binding certificate: the root endorsement would carry no `log` and not verify', fix: 'run emblem org cert (ACME) or emblem org set-binding --chain CHAIN.pem --log LOG.json' });
      return out;
    }
    if (ctx.bindingNotAfter !== null && ctx.bindingNotAfter < ctx.now + ctx.lifetime) {
      out.push({ code: 'BINDING_EXPIRES_BEFORE_RENEWAL', severity: 'warning', message: `the binding certificate expires at ${new Date(ctx.bindingNotAfter * 1000).toISOString()}, before emblems signed now expire`, fix: 'renew it with emblem org cert' });
    }
    return out;
  },
};
