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
  /** Input bytes consumed, for the progress fraction. */
  bytesRead = 0;
  private readonly digests = new Map<number, ResultDigest>();
  private readonly reporter: ProgressReporter | null;

  constructor(sink: LineSink, startIndex: number, summary: ScanSummary, progress: Writable | undefined, inputBytes: number | undefined) {
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
          fraction: inputBytes ? this.bytesRead / inputBytes : null,
        }))
      : null;
    this.reporter?.start();
  }

  /** Remembers a finished target's digest until its line is written. */
  finished(index: number, digest: ResultDigest): void {
    this.digests.set(index, digest);
  }

  stopProgress(): void {
    this.reporter?.stop();
  }
}
