import { EmblemError } from '../core/errors.js';
import { DnsLimits } from './limits.js';

/**
 * RFC 1035 character-strings: TXT RDATA is a sequence of <length octet><up to 255 octets>. ADEM values are
 * 240-1400 bytes (SPEC-NOTES §1.6), so every real record needs several strings; readers concatenate them.
 */

/** Splits a value into character-strings of at most 255 bytes (one empty string for an empty value). */
export function splitCharacterStrings(value: Uint8Array): Uint8Array[] {
  const max = DnsLimits.maxCharacterStringBytes;
  if (value.length === 0) return [new Uint8Array(0)];
  const out: Uint8Array[] = [];
  for (let i = 0; i < value.length; i += max) out.push(value.subarray(i, Math.min(i + max, value.length)));
  return out;
}

/** TXT RDATA in wire form for one value. */
export function txtRdata(value: Uint8Array): Buffer {
  const strings = splitCharacterStrings(value);
  const out = Buffer.alloc(strings.reduce((n, s) => n + 1 + s.length, 0));
  let o = 0;
  for (const s of strings) {
    out[o++] = s.length;
    out.set(s, o);
    o += s.length;
  }
  return out;
}

/** The character-strings of a TXT RDATA; throws DNS_RDATA_INVALID if a length runs past the end. */
export function parseTxtRdata(rdata: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < rdata.length) {
    const len = rdata[o]!;
    if (o + 1 + len > rdata.length) throw new EmblemError('DNS_RDATA_INVALID', 'TXT character-string runs past RDATA');
    out.push(rdata.subarray(o + 1, o + 1 + len));
    o += 1 + len;
  }
  return out;
}

/** Concatenation of all strings of one TXT RR (what DNS-01 readers must do). */
export function joinTxtRdata(rdata: Uint8Array): Buffer {
  return Buffer.concat(parseTxtRdata(rdata));
}

/** Zone-file / dig presentation of one character-string: quoted, `"` and `\` escaped, non-printables \DDD. */
export function quoteCharacterString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + String(b).padStart(3, '0');
  }
  return s + '"';
}

/** Presentation of a whole TXT RDATA (strings separated by one space, as dig prints them). */
export function formatTxtRdata(rdata: Uint8Array): string {
  return parseTxtRdata(rdata).map(quoteCharacterString).join(' ');
}

/** Decodes the escapes of one presentation token (quoted or not) to bytes. */
export function unescapeToBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      const ddd = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (ddd) {
        const v = Number(ddd[0]);
        if (v > 255) throw new EmblemError('DNS_RDATA_INVALID', 'escape \\DDD above 255');
        out.push(v);
        i += 3;
      } else if (i + 1 < text.length) {
        out.push(text.charCodeAt(i + 1) & 0xff);
        i++;
      } else throw new EmblemError('DNS_RDATA_INVALID', 'dangling backslash');
    } else if (c > 0x7f) {
      // Non-ASCII text in a zone file is taken as UTF-8.
      out.push(...Buffer.from(text[i]!, 'utf8'));
    } else out.push(c);
  }
  return Buffer.from(out);
}
