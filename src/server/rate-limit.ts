import { ServerLimits } from './limits.js';

/**
 * A token bucket per client address: `rate` tokens a second up to `burst`. Small and dependency-free; the map is
 * bounded (the least recently refilled client is forgotten first, which only gives it a fresh bucket).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** True when the client may proceed (and one token is taken). */
  take(client: string): boolean {
    if (this.rate <= 0) return true;
    const now = this.clock();
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client);
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= ServerLimits.maxRateClients) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
