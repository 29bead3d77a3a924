import type { OrgConfig } from '../config.js';
import type { OrgState } from '../state.js';

export interface Finding {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  fix: string;
}

/** What a rule may look at: the config, effective settings, state, and facts read from the folder. */
export interface LintContext {
  config: OrgConfig;
  state: OrgState;
  host: string;
  lifetime: number;
  renewBefore: number;
  ttl: number;
  ihleType: number;
  now: number;
  /** notAfter of the binding certificate (seconds), null when none is configured. */
  bindingNotAfter: number | null;
  /** Received endorsements' payloads (JWS claims; CWT ones are not inspected). */
  endorsements: Array<{ file: string; claims: Record<string, unknown> }>;
  /** Address records of the zones we can read (zonefile channels): owner -> addresses. */
  zoneAddresses: Map<string, string[]>;
}

export interface LintRule {
  code: string;
  check(ctx: LintContext): Finding[];
}
