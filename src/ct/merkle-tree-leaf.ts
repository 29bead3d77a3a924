import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';
import { TlsReader, TlsWriter } from './tls-codec.js';

/** RFC 6962 §3.4 LogEntryType. */
export type LogEntryType = 'x509' | 'precert';

/** RFC 6962 §3.4 TimestampedEntry: what a log signs in an SCT and hashes into the tree. */
export interface TimestampedEntry {
  timestamp: number;
  entryType: LogEntryType;
  /** x509: the DER certificate. precert: the TBSCertificate without the poison / SCT extension. */
  certificate: Uint8Array;
  /** precert only: SHA-256 of the issuer's DER SubjectPublicKeyInfo. */
  issuerKeyHash?: Uint8Array;
  /** Raw CtExtensions (static-ct logs put leaf_index here). */
  extensions: Uint8Array;
}

export function encodeTimestampedEntry(e: TimestampedEntry): Uint8Array {
  const w = new TlsWriter().uint64(e.timestamp).uint(2, e.entryType === 'x509' ? 0 : 1);
  if (e.entryType === 'precert') {
    if (!e.issuerKeyHash || e.issuerKeyHash.length !== 32) throw new RangeError('precert entry needs a 32-byte issuer key hash');
    w.bytes(e.issuerKeyHash);
  }
  return w.vector(3, e.certificate).vector(2, e.extensions).finish();
}

/** Reads one TimestampedEntry from `r` (shared by MerkleTreeLeaf and static-ct TileLeaf). */
export function readTimestampedEntry(r: TlsReader): TimestampedEntry {
  const timestamp = r.uint64();
  const type = r.uint(2);
  if (type !== 0 && type !== 1) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `unknown log entry type ${type}`);
  const issuerKeyHash = type === 1 ? r.bytesN(32) : undefined;
  const certificate = r.vector(3, 1, CtLimits.maxCertificateBytes);
  const extensions = r.vector(2);
  return type === 0
    ? { timestamp, entryType: 'x509', certificate, extensions }
    : { timestamp, entryType: 'precert', certificate, issuerKeyHash, extensions };
}

/** MerkleTreeLeaf = version v1 (0), leaf_type timestamped_entry (0), TimestampedEntry. Its hash is the leaf hash. */
export function encodeMerkleTreeLeaf(e: TimestampedEntry): Uint8Array {
  return new TlsWriter().uint(1, 0).uint(1, 0).bytes(encodeTimestampedEntry(e)).finish();
}

export function parseMerkleTreeLeaf(bytes: Uint8Array): TimestampedEntry {
  const r = new TlsReader(bytes, 'MerkleTreeLeaf');
  const version = r.uint(1);
  const leafType = r.uint(1);
  if (version !== 0 || leafType !== 0) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `MerkleTreeLeaf: unsupported version ${version} / leaf type ${leafType}`);
  }
  const entry = readTimestampedEntry(r);
  r.end();
  return entry;
}
