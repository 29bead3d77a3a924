import type { Writable } from 'node:stream';
import { ProgressReporter } from './progress.js';
import type { ResultDigest } from './result-format.js';
import { OrderedResultWriter, type LineSink } from './result-writer.js';
import type { ScanSummary } from './scan-summary.js';

/**
 * What both scan runners (local pipeline and Redis queue) do with finished targets: write them in input order,
 * count each into the summary only once its line is written (so an interrupted run's summary matches its output),
 * and show progress.
 */
export class ResultCollector {
  readonly writer: OrderedResultWriter;
  /** Results written by this run (a resumed run starts at zero). */
  written = 0;
  /** Input bytes the target reader has got through (whole lines), for the estimated total. */
  private bytesConsumed = 0;
  /** Targets counted in the input so far (the skipped ones of a resumed run included). */
  private targetsRead = 0;
  private inputComplete = false;
  private readonly digests = new Map<number, ResultDigest>();
  private readonly reporter: ProgressReporter | null;

  constructor(sink: LineSink, startIndex: number, summary: ScanSummary, progress: Writable | undefined, private readonly inputBytes: number | undefined) {
    this.writer = new OrderedResultWriter(sink, startIndex, (index) => {
      const digest = this.digests.get(index);
      this.digests.delete(index);
      if (digest) summary.add(digest);
      this.written++;
    });
    this.reporter = progress
      ? new ProgressReporter(progress, () => ({
          done: summary.targets,
          doneThisRun: this.written,
          found: summary.found,
          errors: summary.errors,
          ...this.total(),
        }))
      : null;
    this.reporter?.start();
  }

  /** For readTargets' onLine: the reader got through one more input line. */
  readonly inputLine = (bytes: number, targets: number): void => {
    this.bytesConsumed += bytes;
    this.targetsRead = targets;
  };

  /** The input has been read to its end: the target count is now exact. */
  inputEnded(): void {
    this.inputComplete = true;
  }

  /**
   * Targets in the input: exact once it has been read to the end; before that, the targets counted so far scaled
   * by the input bytes not yet read (lines are about the same length); unknown without the input size.
   */
  total(): { total: number | null; totalExact: boolean } {
    if (this.inputComplete) return { total: this.targetsRead, totalExact: true };
    if (!this.inputBytes || this.bytesConsumed <= 0 || this.targetsRead <= 0) return { total: null, totalExact: false };
    return { total: (this.targetsRead * Math.max(this.inputBytes, this.bytesConsumed)) / this.bytesConsumed, totalExact: false };
  }

  /** Remembers a finished target's digest until its line is written. */
  finished(index: number, digest: ResultDigest): void {
    this.digests.set(index, digest);
  }

  stopProgress(): void {
    this.reporter?.stop();
  }
}
