import { createHash } from 'node:crypto';
import type { CommitmentChecker, CommitmentOutcome, CommitmentRequest } from '../core/verify/commitment.js';
import { ScanLimits } from './limits.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Wraps a CT commitment checker for a scan: one outcome per log-bearing endorsement, however many targets carry it.
 * The key is a hash of everything the engine derives from that token (era, issuer, committed key, log pointers),
 * which identifies the token's commitment exactly; `now` is fixed for a scan. Concurrent requests for the same key
 * share one lookup (many targets of one organisation arrive at once), and each log sees at most
 * ScanLimits.ctRequestsPerSecondPerLog lookups per second.
 */
export class CachingCommitmentChecker implements CommitmentChecker {
  private readonly outcomes = new Map<string, { outcome: CommitmentOutcome; until: number }>();
  private readonly inFlight = new Map<string, Promise<CommitmentOutcome>>();
  private readonly perLog = new Map<string, RateLimiter>();
  /** Lookups actually forwarded to the inner checker (the rest were answered from the cache or joined one). */
  lookups = 0;

  constructor(
    private readonly inner: CommitmentChecker,
    private readonly clock: () => number = Date.now,
  ) {}

  async check(request: CommitmentRequest): Promise<CommitmentOutcome> {
    const key = requestKey(request);
    const known = this.outcomes.get(key);
    if (known && known.until > this.clock()) return known.outcome;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const lookup = this.lookup(request, key);
    this.inFlight.set(key, lookup);
    try {
      return await lookup;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async lookup(request: CommitmentRequest, key: string): Promise<CommitmentOutcome> {
    for (const log of request.logs.slice(0, 16)) {
      const id = Buffer.from(log.id).toString('base64');
      let limiter = this.perLog.get(id);
      if (!limiter) {
        if (this.perLog.size >= ScanLimits.commitmentCacheEntries) this.perLog.clear();
        limiter = new RateLimiter(ScanLimits.ctRequestsPerSecondPerLog);
        this.perLog.set(id, limiter);
      }
      await limiter.take(1);
    }
    this.lookups++;
    const outcome = await this.inner.check(request);
    if (this.outcomes.size >= ScanLimits.commitmentCacheEntries) this.outcomes.delete(this.outcomes.keys().next().value!);
    // Proven outcomes hold for the whole scan (`now` is fixed); "could not check" is asked again after a while.
    const until = outcome.status === 'unavailable' ? this.clock() + ScanLimits.unavailableCommitmentRetryMs : Infinity;
    this.outcomes.delete(key);
    this.outcomes.set(key, { outcome, until });
    return outcome;
  }
}

function requestKey(r: CommitmentRequest): string {
  const h = createHash('sha256');
  h.update(`${r.era}\n${r.issuer}\n${r.host}\n${r.kid}\n${JSON.stringify(r.publicKey)}\n${r.now.toISOString()}\n`);
  for (const log of r.logs) h.update(`${log.ver ?? ''}|${Buffer.from(log.id).toString('hex')}|${log.hash ? Buffer.from(log.hash).toString('hex') : ''}|${log.index ?? ''}\n`);
  return h.digest('base64');
}
