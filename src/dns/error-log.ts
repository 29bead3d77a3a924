import { DnsLimits } from './limits.js';

/**
 * One JSON line per error on stderr, at most a fixed number per second: a flood of garbage packets gets a
 * "suppressed" summary line instead of a flood of log lines. Queries that succeed are never logged.
 */
export class RateLimitedErrorLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly perSecond: number = DnsLimits.maxErrorLogLinesPerSecond,
    private readonly clock: () => number = Date.now,
  ) {}

  error(event: string, fields: Record<string, unknown>): void {
    const now = this.clock();
    if (now - this.windowStart >= 1000) {
      if (this.suppressed > 0) this.emit({ level: 'warn', event: 'log-suppressed', count: this.suppressed });
      this.windowStart = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    this.emit({ level: 'error', event, ...fields });
  }

  /** Never suppressed: rare operator-facing events (a failed zone reload) must reach the log during a flood. */
  warn(event: string, fields: Record<string, unknown>): void {
    this.emit({ level: 'warn', event, ...fields });
  }

  info(event: string, fields: Record<string, unknown>): void {
    this.emit({ level: 'info', event, ...fields });
  }

  private emit(obj: Record<string, unknown>): void {
    this.write(JSON.stringify({ time: new Date(this.clock()).toISOString(), ...obj }) + '\n');
  }
}
