import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';
import { encodeMerkleTreeLeaf, encodeTimestampedEntry, readTimestampedEntry, type TimestampedEntry } from './merkle-tree-leaf.js';
import { TlsReader, TlsWriter } from './tls-codec.js';

/**
 * C2SP static-ct-api data tile entry: TimestampedEntry, then (precert only) the full pre-certificate, then the
 * SHA-256 fingerprints of the chain. Only the TimestampedEntry is hashed into the tree.
 */
export interface TileLeaf {
  entry: TimestampedEntry;
  preCertificate?: Uint8Array;
  chainFingerprints: Uint8Array[];
}

export function readTileLeaf(r: TlsReader): TileLeaf {
  const entry = readTimestampedEntry(r);
  const preCertificate = entry.entryType === 'precert' ? r.vector(3, 1, CtLimits.maxCertificateBytes) : undefined;
  const fp = r.vector(2);
  if (fp.length % 32 !== 0) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, 'TileLeaf: fingerprint list not a multiple of 32 bytes');
  const chainFingerprints: Uint8Array[] = [];
  for (let i = 0; i < fp.length; i += 32) chainFingerprints.push(fp.subarray(i, i + 32));
  return preCertificate ? { entry, preCertificate, chainFingerprints } : { entry, chainFingerprints };
}

/** Parses a data tile into at most `count` entries; a tile with fewer entries than claimed is malformed. */
export function parseDataTile(bytes: Uint8Array, count: number): TileLeaf[] {
  const r = new TlsReader(bytes, 'data tile');
  const out: TileLeaf[] = [];
  while (out.length < count) {
    if (r.remaining === 0) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `data tile has ${out.length} entries, expected ${count}`);
    out.push(readTileLeaf(r));
  }
  return out;
}

export function encodeTileLeaf(leaf: TileLeaf): Uint8Array {
  const w = new TlsWriter().bytes(encodeTimestampedEntry(leaf.entry));
  if (leaf.entry.entryType === 'precert') w.vector(3, leaf.preCertificate ?? new Uint8Array(0));
  const fps = new TlsWriter();
  for (const f of leaf.chainFingerprints) fps.bytes(f);
  return w.vector(2, fps.finish()).finish();
}

/** The MerkleTreeLeaf whose hash is this entry's leaf hash. */
export function tileLeafMerkleLeaf(leaf: TileLeaf): Uint8Array {
  return encodeMerkleTreeLeaf(leaf.entry);
}
