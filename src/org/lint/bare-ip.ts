import { isIP } from 'node:net';
import type { LintRule } from './rule.js';

/** An IP address written without brackets is read as a domain name by validators: it marks nothing. */
export const bareIp: LintRule = {
  code: 'ASSET_BARE_IP',
  check: (ctx) =>
    ctx.config.assets
      .filter((a) => isIP(a.split('/')[0]!) !== 0)
      .map((a) => ({ code: 'ASSET_BARE_IP', severity: 'error' as const, message: `asset ${a} is an IP address without brackets`, fix: `write it as [${a}]` })),
};
