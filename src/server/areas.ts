import type { ServeFlags } from '../cli/commands/serve.js';
import type { AuthorityArea } from './authority.js';
import type { ObservatoryArea } from './observatory.js';
import type { OrgArea } from './org.js';

/** Opens the optional areas the flags name (org folder, authority folder, observe config). */
export async function openAreas(opts: ServeFlags): Promise<{ org?: OrgArea; authority?: AuthorityArea; observatory?: ObservatoryArea; close?: () => Promise<void> }> {
  return {
    ...(opts.org ? { org: { dir: opts.org } } : {}),
    ...(opts.authority ? { authority: { dir: opts.authority } } : {}),
    ...(opts.observeConfig ? { observatory: { dir: opts.observeConfig } } : {}),
  };
}
