import { hashLeaf } from '../core/merkle/hash.js';
import { toBase64 } from './bytes.js';
import { embeddedSctList, issuerKeyHash, SCT_LIST_OID, tbsOf, tbsWithoutExtension } from './certificate-parse.js';
import { ctError, CtErrorCodes } from './errors.js';
import { encodeMerkleTreeLeaf, type TimestampedEntry } from './merkle-tree-leaf.js';
import { leafIndexFromExtensions, parseSctList, type SignedCertificateTimestamp } from './sct.js';

/** A `log` entry exactly as a JWS-era token carries it (SPEC-NOTES §1.2, §5.2). */
export type LogEntryJson =
  | { ver: 'v1'; id: string; hash: string }
  | { ver: 'static'; id: string; index: number };

/** RFC 6962 leaf hash of a TimestampedEntry: SHA-256(0x00 || MerkleTreeLeaf). */
export function leafHashOf(entry: TimestampedEntry): Uint8Array {
  return hashLeaf(encodeMerkleTreeLeaf(entry));
}

/**
 * The precert entry a log built when it issued `sct` for the certificate `certDer` (issued by `issuerDer`):
 * TBS without the SCT list, issuer key hash, the SCT's timestamp and extensions (RFC 6962 §3.2, §3.4).
 */
export function precertEntryForSct(certDer: Uint8Array, issuerDer: Uint8Array, sct: SignedCertificateTimestamp): TimestampedEntry {
  return {
    timestamp: sct.timestamp,
    entryType: 'precert',
    issuerKeyHash: issuerKeyHash(issuerDer),
    certificate: tbsWithoutExtension(tbsOf(certDer), SCT_LIST_OID),
    extensions: sct.extensions,
  };
}

/** The x509 entry for a certificate submitted as-is (add-chain), given what the log's SCT said. */
export function x509EntryFor(certDer: Uint8Array, timestamp: number, extensions: Uint8Array = new Uint8Array(0)): TimestampedEntry {
  return { timestamp, entryType: 'x509', certificate: certDer, extensions };
}

/** One row per embedded SCT: which `log` entry a token must carry to point at this certificate. */
export interface EmbeddedSctEntry {
  log: LogEntryJson;
  /** SCT timestamp (ms). */
  timestamp: number;
  /** The RFC 6962 leaf hash, also for static entries (for cross-checking). */
  leafHash: string;
}

export function logEntriesFromChain(chain: Uint8Array[]): EmbeddedSctEntry[] {
  const [leaf, issuer] = chain;
  if (!leaf) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'empty chain');
  const sctList = embeddedSctList(leaf);
  if (!sctList) return [];
  if (!issuer) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'the chain needs the issuer certificate after the leaf (its key hash is part of the logged entry)');
  return parseSctList(sctList).map((sct) => {
    const leafHash = toBase64(leafHashOf(precertEntryForSct(leaf, issuer, sct)));
    const id = toBase64(sct.logId);
    const index = leafIndexFromExtensions(sct.extensions);
    const log: LogEntryJson = index === null ? { ver: 'v1', id, hash: leafHash } : { ver: 'static', id, index };
    return { log, timestamp: sct.timestamp, leafHash };
  });
}
