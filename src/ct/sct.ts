import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';
import { TlsReader, TlsWriter } from './tls-codec.js';

/** RFC 6962 §3.2 SignedCertificateTimestamp, plus the static-ct-api `leaf_index` CtExtension. */
export interface SignedCertificateTimestamp {
  version: number;
  logId: Uint8Array;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Raw CtExtensions bytes: they are part of the logged leaf, so they are kept verbatim. */
  extensions: Uint8Array;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Uint8Array;
}

/** static-ct-api: `extension_type` 0 carries the entry's index as a 5-byte big-endian uint40. */
const LEAF_INDEX_EXTENSION = 0;

export function parseSct(bytes: Uint8Array): SignedCertificateTimestamp {
  const r = new TlsReader(bytes, 'SCT');
  const version = r.uint(1);
  if (version !== 0) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `SCT: unsupported version ${version}`);
  const logId = r.bytesN(32);
  const timestamp = r.uint64();
  const extensions = r.vector(2);
  const hashAlgorithm = r.uint(1);
  const signatureAlgorithm = r.uint(1);
  const signature = r.vector(2);
  r.end();
  return { version, logId, timestamp, extensions, hashAlgorithm, signatureAlgorithm, signature };
}

export function encodeSct(sct: SignedCertificateTimestamp): Uint8Array {
  return new TlsWriter()
    .uint(1, sct.version)
    .bytes(sct.logId)
    .uint64(sct.timestamp)
    .vector(2, sct.extensions)
    .uint(1, sct.hashAlgorithm)
    .uint(1, sct.signatureAlgorithm)
    .vector(2, sct.signature)
    .finish();
}

/** RFC 6962 §3.3 SignedCertificateTimestampList: opaque SerializedSCT<1..2^16-1> list<1..2^16-1>. */
export function parseSctList(bytes: Uint8Array): SignedCertificateTimestamp[] {
  const outer = new TlsReader(bytes, 'SCT list');
  const list = new TlsReader(outer.vector(2, 1), 'SCT list');
  outer.end();
  const out: SignedCertificateTimestamp[] = [];
  while (list.remaining > 0) {
    if (out.length >= CtLimits.maxSctsPerCertificate) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `SCT list: more than ${CtLimits.maxSctsPerCertificate} SCTs`);
    }
    out.push(parseSct(list.vector(2, 1)));
  }
  return out;
}

export function encodeSctList(scts: SignedCertificateTimestamp[]): Uint8Array {
  const inner = new TlsWriter();
  for (const s of scts) inner.vector(2, encodeSct(s));
  return new TlsWriter().vector(2, inner.finish()).finish();
}

export interface CtExtension {
  type: number;
  data: Uint8Array;
}

export function parseCtExtensions(bytes: Uint8Array): CtExtension[] {
  const r = new TlsReader(bytes, 'CtExtensions');
  const out: CtExtension[] = [];
  while (r.remaining > 0) out.push({ type: r.uint(1), data: r.vector(2) });
  return out;
}

/** The static-ct leaf index, or null when the extensions carry none (an RFC 6962 log's SCT). */
export function leafIndexFromExtensions(bytes: Uint8Array): number | null {
  const found = parseCtExtensions(bytes).filter((e) => e.type === LEAF_INDEX_EXTENSION);
  if (found.length === 0) return null;
  if (found.length > 1 || found[0]!.data.length !== 5) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, 'CtExtensions: malformed leaf_index');
  }
  const r = new TlsReader(found[0]!.data, 'leaf_index');
  return r.uint(5);
}

export function leafIndexExtension(index: number): Uint8Array {
  return new TlsWriter().uint(1, LEAF_INDEX_EXTENSION).vector(2, new TlsWriter().uint(5, index).finish()).finish();
}
