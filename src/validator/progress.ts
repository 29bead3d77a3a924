import type { Writable } from 'node:stream';
import { ScanLimits } from './limits.js';

export interface ScanProgress {
  /** Results written so far (including those found in the file on --resume). */
  done: number;
  /** Results written by this run. */
  doneThisRun: number;
  /** Targets with a valid emblem that names them (status protected). */
  found: number;
  errors: number;
  /**
   * Targets in the whole input (resumed ones included): exact once the input has been read to its end, estimated
   * from the bytes read so far when the input size is known, null when neither (standard input, not yet read).
   */
  total: number | null;
  /** `total` is the exact count, not an estimate. */
  totalExact: boolean;
}

/**
 * Progress on stderr: a one-line bar redrawn in place on a TTY (targets/s, found, errors, ETA), JSON lines when
 * stderr is a pipe or file, so a supervising script can parse them. The percentage is targets done over targets
 * in the input, and the ETA is what remains at this run's rate: both unknown (shown as such, JSON null) until
 * there is something to base them on.
 */
export class ProgressReporter {
  private readonly started: number;
  private timer: NodeJS.Timeout | null = null;
  private lastLength = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly read: () => ScanProgress,
    /** Milliseconds on a monotonic clock (injected by tests). */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.started = clock();
  }

  start(): void {
    const interval = this.out.isTTY ? ScanLimits.progressTtyIntervalMs : ScanLimits.progressJsonIntervalMs;
    this.timer = setInterval(() => this.report(), interval);
    this.timer.unref();
  }

  private rate(p: ScanProgress): number {
    const seconds = (this.clock() - this.started) / 1000;
    return seconds > 0 ? p.doneThisRun / seconds : 0;
  }

  /** Seconds left at this run's rate; null while the total or the rate is unknown. */
  private eta(p: ScanProgress, rate: number): number | null {
    if (p.total === null || rate <= 0) return null;
    // Rounded up: "0" only when nothing is left.
    return Math.ceil(Math.max(0, p.total - p.done) / rate);
  }

  report(final = false): void {
    const p = this.read();
    const rate = this.rate(p);
    const eta = final ? 0 : this.eta(p, rate);
    const fraction = p.total === null ? null : p.total === 0 ? 1 : Math.min(1, p.done / p.total);
    if (!this.out.isTTY) {
      this.out.write(`${JSON.stringify({ event: final ? 'done' : 'progress', targets: p.done, total: p.total === null ? null : Math.round(p.total), totalExact: p.totalExact, rate: Math.round(rate), found: p.found, errors: p.errors, etaSeconds: eta })}\n`);
      return;
    }
    const width = 24;
    let bar: string;
    if (fraction === null) bar = '[total unknown] ';
    else {
      const filled = Math.round(fraction * width);
      // An estimated total (input not read to its end yet) is marked with "~".
      const percent = `${p.totalExact ? '' : '~'}${(fraction * 100).toFixed(0)}%`;
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent.padStart(4)} `;
    }
    const etaText = eta === null ? ' ETA ?' : ` ETA ${formatSeconds(eta)}`;
    const line = `${bar}${p.done.toLocaleString('en')} targets  ${Math.round(rate).toLocaleString('en')}/s  found ${p.found}  errors ${p.errors}${etaText}`;
    this.out.write(`\r${line}${' '.repeat(Math.max(0, this.lastLength - line.length))}${final ? '\n' : ''}`);
    this.lastLength = line.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.report(true);
  }
}

function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
