import { EmblemError, type ReportedError } from '../errors.js';
import { hexDecode } from '../encoding.js';
import { Limits } from '../limits.js';
import type { Material } from './material.js';
import { joinLegacyParts, joinTxtPresentation, parseAdemTxtValue, type AdemTxtValue } from './txt.js';

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const HEX = /^[0-9A-Fa-f]+$/;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

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

  for (const pem of text.match(PEM_BLOCK) ?? []) material.push({ kind: 'spki-pem', pem, source: sourceName });
  // Keep the line breaks of removed PEM blocks so that reported line numbers stay right.
  const withoutPem = text.replace(PEM_BLOCK, (block) => '\n'.repeat(block.split('\n').length - 1));

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
      fail(err instanceof EmblemError ? err : new EmblemError('INPUT_UNRECOGNIZED', `${source}: ${(err as Error).message}`));
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
