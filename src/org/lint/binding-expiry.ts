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
    // Validators check the binding certificate at the time they verify: once it has expired, emblems whose root
    // endorsement points at it stop verifying. Signing happens at the next renewal (now + lifetime - margin).
    if (ctx.bindingNotAfter !== null && ctx.bindingNotAfter < ctx.now + ctx.lifetime) {
      const iso = (s: number) => new Date(s * 1000).toISOString();
      const renewal = ctx.now + ctx.lifetime - ctx.renewBefore;
      const when = ctx.bindingNotAfter < renewal ? `before the next renewal (${iso(renewal)})` : `before emblems signed now expire (${iso(ctx.now + ctx.lifetime)})`;
      out.push({ code: 'BINDING_EXPIRES_BEFORE_RENEWAL', severity: 'warning', message: `the binding certificate expires at ${iso(ctx.bindingNotAfter)}, ${when}: emblems stop verifying when it does`, fix: 'renew it now with emblem org cert (or org set-binding)' });
    }
    return out;
  },
};
