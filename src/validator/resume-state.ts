import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { readLines } from './line-reader.js';
import { ScanLimits } from './limits.js';
import { CSV_HEADER, parseResultLine, type OutputFormat } from './result-format.js';
import { ScanSummary } from './scan-summary.js';

export interface ResumePoint {
  /** Index of the first target without a result in the file. */
  nextIndex: number;
  /** Summary of the results already in the file, to continue counting. */
  summary: ScanSummary;
  /** The file already holds its CSV header. */
  hasHeader: boolean;
}

/**
 * Finds where an interrupted scan stopped. The writer only appends whole lines in input order, so the file is the
 * results of targets 0..n-1 followed by at most one partial line (the process died mid-write). The partial line is
 * cut off (truncate after the last newline); every complete line must carry the index equal to its position,
 * otherwise this is not our output (or it was edited) and we refuse rather than produce gaps or duplicates.
 */
export async function prepareResume(path: string, format: OutputFormat): Promise<ResumePoint> {
  const summary = new ScanSummary();
  let handle;
  try {
    handle = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nextIndex: 0, summary, hasHeader: false };
    throw err;
  }
  let complete = 0;
  try {
    const { size } = await handle.stat();
    // Scan backwards for the last newline: everything after it is a partial line from an interrupted write.
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0 && complete === 0; ) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl !== -1) complete = start + nl + 1;
      end = start;
    }
    if (complete < size) {
      await handle.truncate(complete);
      await handle.datasync();
    }
  } finally {
    await handle.close();
  }

  let expected = 0;
  let hasHeader = false;
  let lineNo = 0;
  if (complete > 0) {
    const stream = createReadStream(path, { start: 0, end: complete - 1, highWaterMark: 1 << 20 });
    for await (const line of readLines(stream, ScanLimits.maxResultLineBytes)) {
      lineNo++;
      if (format === 'csv' && lineNo === 1 && line.text === CSV_HEADER) {
        hasHeader = true;
        continue;
      }
      const digest = line.tooLong ? null : parseResultLine(line.text, format);
      if (!digest || digest.index !== expected) {
        stream.destroy();
        throw new EmblemError(ScanErrorCodes.RESUME_MISMATCH, `${path} line ${lineNo} is not result ${expected} of a ${format} scan; refusing to resume (write to a new --out file)`);
      }
      summary.add(digest);
      expected++;
    }
  }
  return { nextIndex: expected, summary, hasHeader };
}
