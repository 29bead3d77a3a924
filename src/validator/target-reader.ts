import type { Readable } from 'node:stream';
import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { parseCsvLine } from './csv.js';
import { ScanLimits } from './limits.js';
import { readLines } from './line-reader.js';
import type { ScanTarget } from './scan-target.js';
import { parseZdnsLine } from './zdns-record.js';

export type InputFormat = 'names' | 'zdns' | 'csv';

export interface TargetReaderOptions {
  format: InputFormat;
  /** Targets with a lower index are counted but not parsed or yielded (resume). */
  skip?: number;
  ihleType: number;
  /** CSV: the column holding the name (header name or 0-based number); default: a header column called name,
   *  domain, fqdn, host, hostname or target, else the first column. */
  csvColumn?: string;
  /** Called for every input line (blank, comment, header and skipped ones too) with the bytes it took and the
   *  number of targets counted so far, for the progress estimate. */
  onLine?: (bytes: number, targets: number) => void;
}

const NAME_HEADERS = new Set(['name', 'domain', 'fqdn', 'host', 'hostname', 'target', 'domain_name', 'qname']);

/**
 * Streams targets from an input: one name per line (blank lines and `#` comments skipped), ZDNS JSON lines, or
 * CSV with a name column. Indexes follow the line structure only, so `skip` never has to parse skipped lines.
 */
export async function* readTargets(input: Readable | AsyncIterable<Uint8Array | string>, options: TargetReaderOptions): AsyncGenerator<ScanTarget> {
  const skip = options.skip ?? 0;
  let index = 0;
  let first = true;
  let csvIndex: number | null = null;
  for await (const line of readLines(input, ScanLimits.maxInputLineBytes)) {
    const text = line.tooLong ? 'x' : line.text.trim();
    if (text === '' || (options.format === 'names' && text.startsWith('#'))) {
      options.onLine?.(line.bytes, index);
      continue;
    }
    if (options.format === 'csv' && first) {
      first = false;
      const header = line.tooLong ? null : safeCsv(line.text);
      csvIndex = columnOf(header, options.csvColumn);
      if (csvIndex < 0) {
        csvIndex = -csvIndex - 1;
        options.onLine?.(line.bytes, index);
        continue; // the line was a header
      }
    }
    first = false;
    const i = index++;
    options.onLine?.(line.bytes, index);
    if (i < skip) continue;
    if (line.tooLong) {
      yield { index: i, name: '', inputError: `input line longer than ${ScanLimits.maxInputLineBytes} bytes` };
      continue;
    }
    try {
      if (options.format === 'names') yield { index: i, name: text };
      else if (options.format === 'zdns') {
        const { name, records } = parseZdnsLine(text, options.ihleType);
        yield { index: i, name, prefetched: records };
      } else {
        const fields = parseCsvLine(line.text);
        const name = fields[csvIndex ?? 0];
        if (name === undefined || name.trim() === '') throw new EmblemError(ScanErrorCodes.INPUT_INVALID, 'CSV row has no name in the name column');
        yield { index: i, name: name.trim() };
      }
    } catch (err) {
      yield { index: i, name: '', inputError: err instanceof Error ? err.message : String(err) };
    }
  }
}

function safeCsv(line: string): string[] | null {
  try {
    return parseCsvLine(line);
  } catch {
    return null;
  }
}

/**
 * The name column for a CSV whose first line is `header`. Returns -(i+1) when the first line is a header (and the
 * column is i), i when it is data.
 */
function columnOf(header: string[] | null, wanted: string | undefined): number {
  const cells = (header ?? []).map((h) => h.trim().toLowerCase());
  if (wanted !== undefined && /^\d+$/.test(wanted)) {
    const i = Number(wanted);
    // A numeric column: the first line is a header only if it names a known header in that column.
    return NAME_HEADERS.has(cells[i] ?? '') ? -(i + 1) : i;
  }
  if (wanted !== undefined) {
    const i = cells.indexOf(wanted.toLowerCase());
    if (i === -1) throw new EmblemError('USAGE', `CSV has no column ${JSON.stringify(wanted)} in its first line`);
    return -(i + 1);
  }
  const i = cells.findIndex((c) => NAME_HEADERS.has(c));
  return i === -1 ? 0 : -(i + 1);
}
