import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { CSV_HEADER, type OutputFormat } from './result-format.js';
import { fileSink, streamSink, type LineSink } from './result-writer.js';
import { checkResumeInput, prepareResume, recordInput, type InputFingerprint } from './resume-state.js';
import { ScanSummary } from './scan-summary.js';

export interface OpenedOutput {
  sink: LineSink;
  /** First index this run must produce (0, or the resume point). */
  startIndex: number;
  /** Counts so far (of the results already in the file when resuming). */
  summary: ScanSummary;
}

/**
 * Opens where results go, for a local or a distributed scan alike: with `resume`, after the last complete result
 * of an existing file (see prepareResume); otherwise a new file (the CLI refuses to replace one unless --force) or
 * standard output. A CSV output starts with its header exactly once.
 */
export async function openScanOutput(
  output: { path: string } | { stream: Writable },
  format: OutputFormat,
  resume: boolean,
  /** The input's fingerprint (null: standard input) to record next to a file output and check on resume;
   *  undefined: neither (library use). */
  input?: InputFingerprint | null,
): Promise<OpenedOutput> {
  if (!('path' in output)) {
    const sink = streamSink(output.stream);
    if (format === 'csv') await sink.write(`${CSV_HEADER}\n`);
    return { sink, startIndex: 0, summary: new ScanSummary() };
  }
  let summary = new ScanSummary();
  let startIndex = 0;
  let hasHeader = false;
  if (resume) {
    if (input !== undefined) await checkResumeInput(output.path, input);
    const point = await prepareResume(output.path, format);
    ({ summary, hasHeader } = point);
    startIndex = point.nextIndex;
    if (format === 'csv' && startIndex > 0 && !hasHeader) {
      throw new EmblemError(ScanErrorCodes.RESUME_MISMATCH, `${output.path} has results but no CSV header: not the output of a CSV scan`);
    }
  }
  const sink = fileSink(await open(output.path, resume ? 'a' : 'w'));
  // A new output (or one resumed from nothing) records its input before its first result, and after the open
  // emptied any old output: a crash in between leaves an empty output, never old results under a new record.
  if (input !== undefined && startIndex === 0) {
    try {
      await recordInput(output.path, input);
    } catch (err) {
      await sink.close().catch(() => undefined);
      throw err;
    }
  }
  if (format === 'csv' && !hasHeader) await sink.write(`${CSV_HEADER}\n`);
  return { sink, startIndex, summary };
}
