import { EmblemError, type ReportedError } from '../errors.js';
import { hexDecode } from '../encoding.js';
import { Limits } from '../limits.js';
import type { Material } from './material.js';
import { joinLegacyParts, joinTxtPresentation, parseAdemTxtValue, type AdemTxtValue } from './txt.js';

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const HEX = /^[0-9A-Fa-f]+$/;
const PEM_BEGIN = '-----BEGIN PUBLIC KEY-----';
const PEM_END = '-----END PUBLIC KEY-----';

/**
 * Takes the PEM public-key blocks out of `text` (each BEGIN up to the next END), keeping their line breaks so that
 * reported line numbers stay right. A linear scan: the equivalent lazy regex rescans to the end of the input for
 * every BEGIN without an END, which is quadratic (many unterminated BEGIN lines took seconds per 0.5 MB).
 */
function extractPemBlocks(text: string): { blocks: string[]; rest: string } {
  const blocks: string[] = [];
  const kept: string[] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf(PEM_BEGIN, pos);
    if (begin === -1) break;
    const end = text.indexOf(PEM_END, begin + PEM_BEGIN.length);
    // No END after this BEGIN means none after any later BEGIN either.
    if (end === -1) break;
    const block = text.slice(begin, end + PEM_END.length);
    blocks.push(block);
    kept.push(text.slice(pos, begin), '\n'.repeat(block.split('\n').length - 1));
    pos = end + PEM_END.length;
  }
  kept.push(text.slice(pos));
  return { blocks, rest: kept.join('') };
}

export interface ParsedText {
  material: Material[];
  errors: ReportedError[];
}

/** A token or key value from a TXT record or a bare line: JWS compact, hex CBOR (CWT or COSE_Key), or JWK JSON. */
function classifyValue(value: string, type: 'token' | 'key' | 'any', source: string): Material {
  if (type !== 'key' && JWS_COMPACT.test(value)) return { kind: 'jws', text: value, source };
  if (value.startsWith('{') && type !== 'token') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new EmblemError('INPUT_UNRECOGNIZED', `${source}: not valid JSON`);
    }
    return { kind: 'jwk', jwk: parsed, source };
  }
  if (HEX.test(value) && value.length % 2 === 0) {
    const bytes = hexDecode(value);
    // CBOR major type 6 (tag) starts a CWT; major type 5 (map) a COSE_Key.
    const major = bytes[0]! >> 5;
    if (major === 6 && type !== 'key') return { kind: 'cwt', bytes, source };
    if (major === 5 && type !== 'token') return { kind: 'cose-key', bytes, source };
  }
  throw new EmblemError('INPUT_UNRECOGNIZED', `${source}: not a JWS token, CWT, JWK or ADEM TXT record`);
}

/**
 * Reads the `emblem verify` input format: one item per non-empty line — a JWS compact token, a CWT or COSE_Key
 * as hex, a JWK as JSON (or a JWK Set), or an ADEM TXT record (bare `adem-token=...` or dig's quoted strings).
 * PEM public keys may appear as blocks. Lines starting with "#" or ";" are comments. Everything is bounded:
 * an oversized line is rejected unread and errors stop being collected past the report limit.
 */
export function parseMaterialText(text: string, sourceName = 'input'): ParsedText {
  const material: Material[] = [];
  const errors: ReportedError[] = [];
  let suppressed = 0;
  const fail = (err: unknown) => {
    if (errors.length < Limits.maxReportedErrors) {
      errors.push(err instanceof EmblemError ? { code: err.code, message: err.message } : { code: 'INPUT_UNRECOGNIZED', message: String(err) });
    } else suppressed++;
  };

  const { blocks, rest: withoutPem } = extractPemBlocks(text);
  for (const pem of blocks) material.push({ kind: 'spki-pem', pem, source: sourceName });

  const txtValues: Array<AdemTxtValue & { source: string }> = [];
  let lineNumber = 0;
  let start = 0;
  while (start <= withoutPem.length) {
    let end = withoutPem.indexOf('\n', start);
    if (end === -1) end = withoutPem.length;
    lineNumber++;
    const source = `${sourceName}:${lineNumber}`;
    if (lineNumber > Limits.maxInputLines) {
      fail(new EmblemError('LIMIT_EXCEEDED', `more than ${Limits.maxInputLines} lines; the rest is ignored`));
      break;
    }
    if (end - start > Limits.maxInputLineBytes) {
      fail(new EmblemError('LIMIT_EXCEEDED', `${source}: line longer than ${Limits.maxInputLineBytes} bytes`));
      start = end + 1;
      continue;
    }
    const line = withoutPem.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    try {
      const record = line.startsWith('"') ? joinTxtPresentation(line) : line;
      const txt = record.startsWith('adem') ? parseAdemTxtValue(record) : null;
      if (txt) txtValues.push({ ...txt, source });
      else material.push(classifyValue(record, 'any', source));
    } catch (err) {
      // classifyValue's errors already name the line; joinTxtPresentation's do not.
      const e = err instanceof EmblemError ? err : new EmblemError('INPUT_UNRECOGNIZED', (err as Error).message);
      fail(e.message.startsWith(`${source}: `) ? e : new EmblemError(e.code, `${source}: ${e.message}`));
    }
  }

  for (const v of joinLegacyParts(txtValues)) {
    const source = (v as AdemTxtValue & { source?: string }).source ?? sourceName;
    try {
      material.push(classifyValue(v.value, v.type, source));
    } catch (err) {
      fail(err);
    }
  }
  if (suppressed > 0) errors.push({ code: 'LIMIT_EXCEEDED', message: `${suppressed} more input errors not shown` });
  return { material, errors };
}
