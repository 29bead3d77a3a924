import type { Writable } from 'node:stream';
import { ScanLimits } from './limits.js';

export interface ScanProgress {
  /** Results written so far (including those found in the file on --resume). */
  done: number;
  /** Results written by this run. */
  doneThisRun: number;
  found: number;
  errors: number;
  /** Fraction of the input read (0..1), when the input size is known. */
  fraction: number | null;
}

/**
 * Progress on stderr: a one-line bar redrawn in place on a TTY (targets/s, found, errors, ETA), JSON lines when
 * stderr is a pipe or file, so a supervising script can parse them.
 */
export class ProgressReporter {
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private lastLength = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly read: () => ScanProgress,
  ) {}

  start(): void {
    const interval = this.out.isTTY ? ScanLimits.progressTtyIntervalMs : ScanLimits.progressJsonIntervalMs;
    this.timer = setInterval(() => this.report(), interval);
    this.timer.unref();
  }

  private rate(p: ScanProgress): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? p.doneThisRun / seconds : 0;
  }

  private eta(p: ScanProgress): number | null {
    if (p.fraction === null || p.fraction <= 0) return null;
    const seconds = (performance.now() - this.started) / 1000;
    return Math.max(0, Math.round((seconds * (1 - p.fraction)) / p.fraction));
  }

  report(final = false): void {
    const p = this.read();
    const rate = this.rate(p);
    const eta = final ? 0 : this.eta(p);
    if (!this.out.isTTY) {
      this.out.write(`${JSON.stringify({ event: final ? 'done' : 'progress', targets: p.done, rate: Math.round(rate), found: p.found, errors: p.errors, etaSeconds: eta })}\n`);
      return;
    }
    const width = 24;
    const filled = p.fraction === null ? 0 : Math.round(Math.min(1, p.fraction) * width);
    const bar = p.fraction === null ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(Math.min(1, p.fraction) * 100).toFixed(0).padStart(3)}% `;
    const etaText = eta === null ? '' : ` ETA ${formatSeconds(eta)}`;
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
