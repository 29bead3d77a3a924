/**
 * A token bucket that may go into debt: a request waits until the bucket is non-negative, then subtracts its cost.
 * Callers that only learn the real cost afterwards (a DNS discovery asks 1-3 questions) reserve an estimate and
 * `charge` the difference, so the long-run rate never exceeds `perSecond`, with bursts of at most one second's worth.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly queue: Array<{ cost: number; resolve: () => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = clock();
  }

  /** Waits for permission to spend `cost` (first come, first served). */
  take(cost = 1): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push({ cost, resolve });
      this.pump();
    });
  }

  /** Adjusts for a cost learned after the fact (negative gives tokens back). */
  charge(cost: number): void {
    this.tokens -= cost;
  }

  private pump(): void {
    const now = this.clock();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    while (this.queue.length > 0 && this.tokens >= 0) {
      const next = this.queue.shift()!;
      this.tokens -= next.cost;
      next.resolve();
    }
    if (this.queue.length > 0 && this.timer === null) {
      const wait = Math.max(1, Math.ceil((-this.tokens * 1000) / this.perSecond));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, wait);
    }
  }
}
