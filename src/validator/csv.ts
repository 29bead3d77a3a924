import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { ScanLimits } from './limits.js';

/** Splits one RFC 4180 line (quoted fields, "" escapes; fields never span lines in a target list). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (fields.length >= ScanLimits.maxCsvColumns) throw new EmblemError(ScanErrorCodes.INPUT_INVALID, `more than ${ScanLimits.maxCsvColumns} CSV columns`);
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) throw new EmblemError(ScanErrorCodes.INPUT_INVALID, 'unterminated quoted CSV field');
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        fields.push(field);
        return fields;
      }
      i = comma + 1;
      fields.push(field);
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** One CSV field, quoted only when it has to be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
