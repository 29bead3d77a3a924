import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { readLines } from './line-reader.js';
import { ScanLimits } from './limits.js';
import { CSV_HEADER, parseResultLine, type OutputFormat } from './result-format.js';
import { ScanSummary } from './scan-summary.js';
import { writeFileAtomic } from '../store/atomic-write.js';

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

/**
 * What identifies a scan's input, recorded next to its output so that --resume can refuse another input: the
 * result at line k is the result of input target k only if the input is the same. How the input is read (format,
 * CSV column) matters as much as its bytes.
 */
export interface InputFingerprint {
  format: string;
  csvColumn: string | null;
  /** Size of the input file. */
  bytes: number;
  /** SHA-256 (hex) of the first and of the last ScanLimits.inputFingerprintBytes of the file. */
  head: string;
  tail: string;
}

/** The record file: the fingerprint, or null when the input was standard input or a pipe (it cannot be compared). */
interface InputRecord {
  version: 1;
  input: InputFingerprint | null;
}

/** Largest input record read back: a few hundred bytes are ours; anything bigger is not. */
const MAX_RECORD_BYTES = 64 * 1024;

export function inputRecordPath(outPath: string): string {
  return `${outPath}.input.json`;
}

/** The fingerprint of an input file; null when it is not a regular file (a pipe must not be read twice). */
export async function fingerprintInput(path: string, format: string, csvColumn: string | undefined): Promise<InputFingerprint | null> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const n = Math.min(info.size, ScanLimits.inputFingerprintBytes);
    const buffer = Buffer.alloc(n);
    const digest = async (start: number): Promise<string> => {
      let filled = 0;
      while (filled < n) {
        const { bytesRead } = await handle.read(buffer, filled, n - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return createHash('sha256').update(buffer.subarray(0, filled)).digest('hex');
    };
    return { format, csvColumn: csvColumn ?? null, bytes: info.size, head: await digest(0), tail: await digest(info.size - n) };
  } finally {
    await handle.close();
  }
}

/** Records which input an output file is the scan of (atomically: a crash leaves the old or the new record). */
export async function recordInput(outPath: string, input: InputFingerprint | null): Promise<void> {
  const record: InputRecord = { version: 1, input };
  await writeFileAtomic(inputRecordPath(outPath), `${JSON.stringify(record)}\n`);
}

/**
 * Before resuming into `outPath`: when it already holds results, its recorded input must be `input`. Refuses
 * (RESUME_MISMATCH) when the record is missing or unreadable, when that scan read standard input, or when the
 * input differs, since appending would pair results with the wrong targets.
 */
export async function checkResumeInput(outPath: string, input: InputFingerprint | null): Promise<void> {
  const size = await stat(outPath).then((s) => s.size, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return 0;
    throw err;
  });
  if (size === 0) return;
  const recordPath = inputRecordPath(outPath);
  const refuse = (why: string): never => {
    throw new EmblemError(ScanErrorCodes.RESUME_MISMATCH, `${why}; refusing to resume (write to a new --out file, or --force to start over)`);
  };
  let recorded: InputFingerprint | null;
  try {
    const text = await readFile(recordPath, 'utf8');
    if (text.length > MAX_RECORD_BYTES) throw new Error('too large');
    const record = JSON.parse(text) as Partial<InputRecord>;
    if (record.version !== 1 || record.input === undefined || (record.input !== null && !isFingerprint(record.input))) throw new Error('not a record');
    recorded = record.input;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return refuse(`${outPath} has no record of the input it was scanned from (${recordPath} is missing), so --input cannot be checked`);
    return refuse(`${recordPath} is not an input record of emblem scan`);
  }
  if (recorded === null) return refuse(`${outPath} was scanned from standard input, which cannot be compared with --input`);
  if (input === null) return refuse('--input is not a regular file, so it cannot be compared with the input of that scan');
  if (recorded.format !== input.format || recorded.csvColumn !== input.csvColumn) {
    const how = (f: InputFingerprint) => `--format ${f.format}${f.csvColumn === null ? '' : ` --csv-column ${f.csvColumn}`}`;
    return refuse(`${outPath} is the output of a ${how(recorded)} scan, not ${how(input)}`);
  }
  if (recorded.bytes !== input.bytes || recorded.head !== input.head || recorded.tail !== input.tail) {
    return refuse(`--input is not the input ${outPath} was scanned from (${recorded.bytes !== input.bytes ? `it has ${input.bytes} bytes, that input had ${recorded.bytes}` : 'same size, different content'})`);
  }
}

function isFingerprint(v: unknown): v is InputFingerprint {
  const f = v as Record<string, unknown>;
  return (
    typeof f === 'object' && f !== null && typeof f.format === 'string' && (f.csvColumn === null || typeof f.csvColumn === 'string') &&
    Number.isSafeInteger(f.bytes) && typeof f.head === 'string' && typeof f.tail === 'string'
  );
}
