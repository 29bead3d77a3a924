import type { CheckStatus } from '../dns/name-check.js';
import { ScanLimits } from './limits.js';
import type { ResultDigest } from './result-format.js';

export interface ScanSummaryJson {
  targets: number;
  byStatus: Partial<Record<CheckStatus, number>>;
  /** CORE-01 level of the best set, for targets with a valid emblem (protected or not-covered). */
  byLevel: Record<string, number>;
  distinctIssuers: number;
  distinctAuthorities: number;
  /** True when more distinct issuers/authorities were seen than are counted exactly (the counts are lower bounds). */
  distinctTruncated: boolean;
}

/** Counts per status and level, and distinct issuers and endorsing authorities, in bounded memory. */
export class ScanSummary {
  targets = 0;
  readonly byStatus: Partial<Record<CheckStatus, number>> = {};
  readonly byLevel: Record<string, number> = {};
  private readonly issuers = new Set<string>();
  private readonly authorities = new Set<string>();
  private truncated = false;

  add(d: ResultDigest): void {
    this.targets++;
    this.byStatus[d.status] = (this.byStatus[d.status] ?? 0) + 1;
    if (d.level && (d.status === 'protected' || d.status === 'not-covered')) {
      this.byLevel[d.level] = (this.byLevel[d.level] ?? 0) + 1;
      if (d.issuer) this.remember(this.issuers, d.issuer);
      for (const a of d.endorsers) this.remember(this.authorities, a);
    }
  }

  private remember(set: Set<string>, value: string): void {
    if (set.has(value)) return;
    if (set.size >= ScanLimits.maxDistinctInSummary) this.truncated = true;
    else set.add(value);
  }

  /** Targets found protected: a valid emblem names them (expired, invalid and not-covered emblems do not count). */
  get found(): number {
    return this.byStatus.protected ?? 0;
  }

  get errors(): number {
    return this.byStatus.error ?? 0;
  }

  toJSON(): ScanSummaryJson {
    return {
      targets: this.targets,
      byStatus: { ...this.byStatus },
      byLevel: { ...this.byLevel },
      distinctIssuers: this.issuers.size,
      distinctAuthorities: this.authorities.size,
      distinctTruncated: this.truncated,
    };
  }
}
