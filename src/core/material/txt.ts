import { EmblemError } from '../errors.js';
import { Limits } from '../limits.js';

/**
 * ADEM TXT record values (SPEC-NOTES §1.6). Accepted forms, newest first:
 *   DNS-01 (deployed):   adem-token[-ID]=<JWS>, adem-key[-ID]=<JWK JSON>
 *   drafts / DNS-md:     adem-emb[-ID]=<JWS>, adem-end[-ID]=<JWS>
 *   DNS-00:              adem[-ID]=<JWS>
 *   LEGACY (2023):       adem-(emb|end)[-ID]-s<N>[-p<M>]=<part>  (parts concatenated by M, see joinLegacyParts)
 * ID is printable ASCII without "-" (DNS-01 grammar).
 */
export interface AdemTxtValue {
  type: 'token' | 'key';
  /** Groups records into token sets; null means "belongs to every set". */
  identifier: string | null;
  value: string;
  /** For LEGACY split tokens: sequence number and part number. */
  legacy?: { sequence: number; part: number };
}

const ID = '[\\x21-\\x2c\\x2e-\\x7e]+'; // printable ASCII except "-" (0x2d)
const DNS01 = new RegExp(`^adem-(token|key)(?:-(${ID}))?=(.+)$`, 's');
const LEGACY = new RegExp(`^adem-(?:emb|end)(?:-(${ID}))?-s(\\d{1,4})(?:-p(\\d{1,4}))?=(.+)$`, 's');
const DRAFT = new RegExp(`^adem-(?:emb|end)(?:-(${ID}))?=(.+)$`, 's');
const DNS00 = new RegExp(`^adem(?:-(${ID}))?=(.+)$`, 's');

/** Parses one TXT record value (the character-strings already concatenated). Returns null if it is not ADEM. */
export function parseAdemTxtValue(record: string): AdemTxtValue | null {
  if (record.length > Limits.maxInputLineBytes) return null;
  let m = DNS01.exec(record);
  if (m) return { type: m[1] === 'key' ? 'key' : 'token', identifier: m[2] ?? null, value: m[3]! };
  m = LEGACY.exec(record);
  if (m) {
    return {
      type: 'token',
      identifier: m[1] ?? null,
      value: m[4]!,
      legacy: { sequence: Number(m[2]), part: m[3] === undefined ? 0 : Number(m[3]) },
    };
  }
  m = DRAFT.exec(record);
  if (m) return { type: 'token', identifier: m[1] ?? null, value: m[2]! };
  m = DNS00.exec(record);
  if (m) return { type: 'token', identifier: m[1] ?? null, value: m[2]! };
  return null;
}

/**
 * Splits a presentation-format TXT RDATA (as `dig` prints it: one or more quoted character-strings, with
 * \" \\ and \DDD escapes) into its strings and joins them. Text that is not quoted is returned as is.
 */
export function joinTxtPresentation(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('"')) return trimmed;
  let out = '';
  let i = 0;
  while (i < trimmed.length) {
    const c = trimmed[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c !== '"') throw new EmblemError('INPUT_UNRECOGNIZED', `unexpected character ${JSON.stringify(c)} between TXT strings`);
    i++;
    let closed = false;
    while (i < trimmed.length) {
      const d = trimmed[i]!;
      if (d === '"') {
        closed = true;
        i++;
        break;
      }
      if (d === '\\') {
        const rest = trimmed.slice(i + 1, i + 4);
        if (/^\d{3}$/.test(rest)) {
          out += String.fromCharCode(Number(rest));
          i += 4;
        } else {
          out += trimmed[i + 1] ?? '';
          i += 2;
        }
        continue;
      }
      out += d;
      i++;
    }
    if (!closed) throw new EmblemError('INPUT_UNRECOGNIZED', 'unterminated quoted TXT string');
  }
  return out;
}

/** LEGACY split tokens: concatenates the parts of each (identifier, sequence) in part order. */
export function joinLegacyParts(values: AdemTxtValue[]): AdemTxtValue[] {
  const plain: AdemTxtValue[] = [];
  const groups = new Map<string, AdemTxtValue[]>();
  for (const v of values) {
    if (!v.legacy) {
      plain.push(v);
      continue;
    }
    const key = `${v.identifier ?? ''}\u0000${v.legacy.sequence}`;
    const group = groups.get(key) ?? [];
    group.push(v);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.legacy!.part - b.legacy!.part);
    plain.push({ type: 'token', identifier: group[0]!.identifier, value: group.map((p) => p.value).join('') });
  }
  return plain;
}
