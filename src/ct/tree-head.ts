import { fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';
import { parseDigitallySigned, type DigitallySigned, type DigitallySignedVerifier } from './digitally-signed.js';
import { TlsWriter } from './tls-codec.js';

/** A tree head a log signed: from RFC 6962 get-sth or a static-ct checkpoint (same signed structure). */
export interface TreeHead {
  treeSize: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  rootHash: Uint8Array;
}

/** RFC 6962 §3.5 TreeHeadSignature: version v1 (0), signature_type tree_hash (1), timestamp, size, root. */
export function treeHeadSignatureInput(th: TreeHead): Uint8Array {
  return new TlsWriter().uint(1, 0).uint(1, 1).uint64(th.timestamp).uint64(th.treeSize).bytes(th.rootHash).finish();
}

function nonNegativeInteger(v: unknown, max: number): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? v : null;
}

/** Parses and verifies a get-sth answer (RFC 6962 §4.3); a log's word is worth nothing without its signature. */
export async function verifiedSthFromJson(json: unknown, logKey: Uint8Array, source: string, verify: DigitallySignedVerifier): Promise<TreeHead> {
  const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const treeSize = nonNegativeInteger(o.tree_size, CtLimits.maxTreeSize);
  const timestamp = nonNegativeInteger(o.timestamp, Number.MAX_SAFE_INTEGER);
  const rootHash = fromBase64(o.sha256_root_hash);
  const sig = fromBase64(o.tree_head_signature);
  if (treeSize === null || timestamp === null || !rootHash || rootHash.length !== 32 || !sig) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${source}: malformed get-sth answer`);
  }
  const th = { treeSize, timestamp, rootHash };
  let ds: DigitallySigned;
  try {
    ds = parseDigitallySigned(sig, 'tree_head_signature');
  } catch {
    throw ctError(CtErrorCodes.CT_STH_SIGNATURE_INVALID, `${source}: tree head signature is malformed`);
  }
  if (!(await verify(logKey, treeHeadSignatureInput(th), ds))) {
    throw ctError(CtErrorCodes.CT_STH_SIGNATURE_INVALID, `${source}: tree head signature does not verify with the listed log key`);
  }
  return th;
}

export function sthToJson(th: TreeHead, signature: Uint8Array): Record<string, unknown> {
  return {
    tree_size: th.treeSize,
    timestamp: th.timestamp,
    sha256_root_hash: toBase64(th.rootHash),
    tree_head_signature: toBase64(signature),
  };
}
