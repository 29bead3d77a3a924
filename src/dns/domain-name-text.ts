import { EmblemError } from '../core/errors.js';
import { DnsLimits } from './limits.js';

// Pure (no Buffer): the browser extension parses host names with it. The wire form is in domain-name.ts.

/**
 * A domain name as this adapter compares it: ASCII lower case, labels joined by ".", no trailing dot, the root
 * is "". Bytes that are not plain printable ASCII, and "." or "\" inside a label (possible on the wire), are
 * written as \DDD so that a hostile wire label "a.b" can never equal the two-label zone name "a.b".
 */
export type NameKey = string;

export const ROOT: NameKey = '';

/** Lower-cases ASCII letters only (DNS case-insensitivity is ASCII-only, RFC 4343). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The key of one wire label, escaping what could be confused with presentation syntax. */
export function labelKeyFromBytes(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    let b = buf[i]!;
    if (b >= 0x41 && b <= 0x5a) b += 32;
    if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c && b !== 0x22 && b !== 0x28 && b !== 0x29 && b !== 0x3b) {
      s += String.fromCharCode(b);
    } else {
      s += '\\' + String(b).padStart(3, '0');
    }
  }
  return s;
}

/** Decodes one presentation label (with \X and \DDD escapes) to bytes. */
function labelBytes(label: string, whole: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5c) {
      const ddd = /^\d{3}/.exec(label.slice(i + 1));
      if (ddd) {
        const v = Number(ddd[0]);
        if (v > 255) throw nameError(whole, 'escape \\DDD above 255');
        out.push(v);
        i += 3;
      } else if (i + 1 < label.length) {
        out.push(label.charCodeAt(i + 1));
        i += 1;
      } else {
        throw nameError(whole, 'dangling backslash');
      }
    } else {
      if (c > 0x7e || c < 0x21) throw nameError(whole, 'non-ASCII or blank character');
      out.push(c);
    }
  }
  return out;
}

function nameError(name: string, why: string): EmblemError {
  return new EmblemError('DNS_NAME_INVALID', `invalid domain name ${JSON.stringify(name.slice(0, 300))}: ${why}`);
}

/** Splits presentation text on unescaped dots. */
function splitLabels(text: string): string[] {
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      cur += c + (text[i + 1] ?? '');
      i++;
    } else if (c === '.') {
      labels.push(cur);
      cur = '';
    } else cur += c;
  }
  labels.push(cur);
  return labels;
}

/**
 * The key of an absolute name written only with letters, digits, '-' and '_' ("Example.ORG."): its lower-case
 * text without the final dot, which is what the general path below gives for such a name (no escapes to decode,
 * nothing to escape). Null for anything else (escapes, other characters, empty or over-long labels, a name over
 * 255 octets, a relative name): the general path then decides. A scan parses every input name, so this is hot.
 */
function plainAbsoluteName(text: string): NameKey | null {
  const end = text.length - 1;
  // Wire length = text length + 1 for an absolute name (each dot becomes a length octet, plus the root label).
  if (end < 1 || text.charCodeAt(end) !== 0x2e || text.length + 1 > DnsLimits.maxNameWireBytes) return null;
  let labelStart = 0;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (i === labelStart || i - labelStart > DnsLimits.maxLabelBytes) return null;
      labelStart = i + 1;
    } else if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) return null;
  }
  if (end === labelStart || end - labelStart > DnsLimits.maxLabelBytes) return null;
  const key = text.slice(0, end);
  return upper ? key.toLowerCase() : key;
}

/**
 * Parses a name in presentation format. Relative names (no trailing dot) are completed with `origin`;
 * "@" is the origin. Throws DNS_NAME_INVALID for empty labels, over-long labels or names.
 */
export function parseName(text: string, origin: NameKey | null = ROOT): NameKey {
  if (text === '@') {
    if (origin === null) throw nameError(text, '"@" without an origin');
    return origin;
  }
  if (text === '.') return ROOT;
  return plainAbsoluteName(text) ?? parseEscapedName(text, origin);
}

/** parseName's general path (escapes, relative names, every error); exported for the fast path's differential test. */
export function parseEscapedName(text: string, origin: NameKey | null): NameKey {
  const absolute = text.endsWith('.') && !text.endsWith('\\.');
  const body = absolute ? text.slice(0, -1) : text;
  if (body.length === 0) throw nameError(text, 'empty');
  const keys: string[] = [];
  let wire = 1;
  for (const label of splitLabels(body)) {
    if (label.length === 0) throw nameError(text, 'empty label');
    const bytes = labelBytes(label, text);
    if (bytes.length > DnsLimits.maxLabelBytes) throw nameError(text, 'label longer than 63 octets');
    wire += bytes.length + 1;
    keys.push(labelKeyFromBytes(Uint8Array.from(bytes), 0, bytes.length));
  }
  let key = keys.join('.');
  if (!absolute) {
    if (origin === null) throw nameError(text, 'relative name without an origin');
    if (origin !== ROOT) {
      key = `${key}.${origin}`;
      wire += wireLength(origin) - 1;
    }
  }
  if (wire > DnsLimits.maxNameWireBytes) throw nameError(text, 'longer than 255 octets');
  return key;
}

/** Labels of a key, each still in key form (escapes kept). */
export function nameLabels(key: NameKey): string[] {
  return key === ROOT ? [] : splitLabels(key);
}

export function labelKeyToBytes(label: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < label.length; i++) {
    if (label[i] === '\\') {
      out.push(Number(label.slice(i + 1, i + 4)));
      i += 3;
    } else out.push(label.charCodeAt(i));
  }
  return out;
}

/** Length of the uncompressed wire form of a name (without building it). */
export function wireLength(key: NameKey): number {
  let n = 1;
  for (const label of nameLabels(key)) n += labelKeyToBytes(label).length + 1;
  return n;
}

/** True when `name` equals `zone` or lies below it. */
export function isAtOrBelow(name: NameKey, zone: NameKey): boolean {
  return zone === ROOT || name === zone || name.endsWith(`.${zone}`);
}

/** Absolute presentation form with the trailing dot. */
export function toFqdn(key: NameKey): string {
  return key === ROOT ? '.' : `${key}.`;
}

/** Presentation form relative to `origin` ("@" for the origin itself) when the name lies below it. */
export function toRelative(key: NameKey, origin: NameKey): string {
  if (key === origin) return '@';
  if (origin === ROOT) return toFqdn(key);
  if (key.endsWith(`.${origin}`)) return key.slice(0, -origin.length - 1);
  return toFqdn(key);
}

/** Normalises a user-typed host name ("Example.ORG." -> "example.org"). */
export function normalizeUserName(text: string): NameKey {
  return parseName(text.endsWith('.') ? text : `${text}.`, ROOT);
}
