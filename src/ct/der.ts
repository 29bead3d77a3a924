import { ctError, CtErrorCodes } from './errors.js';

/**
 * Minimal DER TLV walking and writing. Used for one byte-exact job no ASN.1 library does safely: removing the
 * SCT-list extension from a TBSCertificate while keeping every other byte as signed (re-encoding with asn1js
 * could normalise fields and change the leaf hash). Also wraps a bare TBSCertificate so pkijs can read it.
 */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset one past the last content byte. */
  end: number;
}

function malformed(why: string): never {
  throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, `DER: ${why}`);
}

export function readDerElement(bytes: Uint8Array, start: number, limit = bytes.length): DerElement {
  if (start + 2 > limit) malformed('truncated header');
  const tag = bytes[start]!;
  if ((tag & 0x1f) === 0x1f) malformed('multi-byte tags are not used in certificates');
  let at = start + 1;
  const first = bytes[at++]!;
  let length: number;
  if (first < 0x80) length = first;
  else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) malformed('unsupported length form');
    if (at + n > limit) malformed('truncated length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[at++]!;
  }
  const end = at + length;
  if (end > limit) malformed('element overruns its container');
  return { tag, start, contentStart: at, end };
}

/** Direct children of a constructed element. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let at = parent.contentStart;
  while (at < parent.end) {
    const el = readDerElement(bytes, at, parent.end);
    out.push(el);
    at = el.end;
  }
  return out;
}

export function encodeDerLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function encodeDerElement(tag: number, content: Uint8Array): Uint8Array {
  const len = encodeDerLength(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

/** DER of an OBJECT IDENTIFIER's content bytes, for matching extension OIDs without a full parser. */
export function encodeOidContent(oid: string): Uint8Array {
  const parts = oid.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}
