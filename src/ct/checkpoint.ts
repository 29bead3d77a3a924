import { sha256 } from '../core/hash.js';
import { bytesEqual } from '../core/merkle/hash.js';
import { concatBytes, fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';
import { encodeDigitallySigned, parseDigitallySigned, type DigitallySigned, type DigitallySignedVerifier } from './digitally-signed.js';
import { TlsReader, TlsWriter } from './tls-codec.js';
import { treeHeadSignatureInput, type TreeHead } from './tree-head.js';

/** One signature line of a C2SP signed note: "— <name> <base64(key hash || signature)>". */
export interface NoteSignature {
  name: string;
  keyHash: Uint8Array;
  signature: Uint8Array;
}

/** A parsed (not yet verified) static-ct checkpoint (C2SP tlog-checkpoint + static-ct-api). */
export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** Extra body lines; static-ct-api checkpoints carry none. */
  extensions: string[];
  signatures: NoteSignature[];
}

const EM_DASH_PREFIX = '\u2014 ';
/** Signature type byte for RFC6962NoteSignature key IDs (C2SP static-ct-api). */
const RFC6962_NOTE_SIGNATURE_TYPE = 0x05;
const MAX_SIGNATURES = 16;

function malformed(why: string): never {
  throw ctError(CtErrorCodes.CT_CHECKPOINT_SIGNATURE_INVALID, `checkpoint: ${why}`);
}

/** Origin line of a static-ct log: its submission prefix without scheme and trailing slash. */
export function checkpointOrigin(submissionUrl: string): string {
  return submissionUrl.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

/** C2SP static-ct-api key ID: first 4 bytes of SHA-256(name || 0x0A || 0x05 || log ID). */
export function rfc6962NoteKeyHash(name: string, logId: Uint8Array): Uint8Array {
  return sha256(concatBytes(new TextEncoder().encode(name), Uint8Array.of(0x0a, RFC6962_NOTE_SIGNATURE_TYPE), logId)).slice(0, 4);
}

export function parseCheckpoint(text: string): Checkpoint {
  const split = text.indexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) malformed('not a signed note (no blank line before signatures, or no final newline)');
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) malformed('body needs origin, tree size and root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!origin || !/^[1-9][0-9]{0,15}$|^0$/.test(sizeText)) malformed('bad origin or tree size line');
  const treeSize = Number(sizeText);
  if (!Number.isSafeInteger(treeSize)) malformed('tree size too large');
  const rootHash = fromBase64(rootText);
  if (!rootHash || rootHash.length !== 32) malformed('root hash is not 32 bytes of base64');
  const signatures: NoteSignature[] = [];
  for (const line of text.slice(split + 2, -1).split('\n')) {
    if (signatures.length >= MAX_SIGNATURES) malformed('too many signatures');
    if (!line.startsWith(EM_DASH_PREFIX)) malformed('signature line does not start with an em dash');
    const rest = line.slice(EM_DASH_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, space);
    const blob = fromBase64(rest.slice(space + 1));
    if (space <= 0 || !blob || blob.length < 5) malformed('malformed signature line');
    signatures.push({ name, keyHash: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  return { origin, treeSize, rootHash, extensions, signatures };
}

/**
 * Verifies a checkpoint against a listed tiled log: origin matches its submission URL, no extension lines, and a
 * signature from the log's key (key ID rule above) over the RFC 6962 TreeHeadSignature of the body's size and
 * root with the note's timestamp. Returns the verified tree head. `verify` is node:crypto's or WebCrypto's.
 */
export async function verifyCheckpoint(
  text: string,
  log: { logId: Uint8Array; key: Uint8Array; submissionUrl: string },
  verify: DigitallySignedVerifier,
): Promise<TreeHead> {
  const cp = parseCheckpoint(text);
  const origin = checkpointOrigin(log.submissionUrl);
  if (cp.origin !== origin) malformed(`origin "${cp.origin}" is not this log's ("${origin}")`);
  // The RFC 6962 signature covers only size, root and timestamp: extension lines would be unauthenticated.
  if (cp.extensions.length > 0) malformed('unexpected extension lines');
  const keyHash = rfc6962NoteKeyHash(origin, log.logId);
  for (const s of cp.signatures) {
    if (s.name !== origin || !bytesEqual(s.keyHash, keyHash)) continue;
    let timestamp: number;
    let ds: DigitallySigned;
    try {
      const r = new TlsReader(s.signature, 'RFC6962NoteSignature');
      timestamp = r.uint64();
      ds = parseDigitallySigned(r.bytesN(r.remaining), 'RFC6962NoteSignature');
    } catch {
      continue;
    }
    const head = { treeSize: cp.treeSize, timestamp, rootHash: cp.rootHash };
    if (await verify(log.key, treeHeadSignatureInput(head), ds)) return head;
  }
  malformed('no signature verifies with the listed log key');
}

/** Writes a checkpoint note signed by a log (used by the local log). */
export function formatCheckpoint(origin: string, head: TreeHead, logId: Uint8Array, signature: DigitallySigned): string {
  const body = `${origin}\n${head.treeSize}\n${toBase64(head.rootHash)}\n`;
  const sig = concatBytes(rfc6962NoteKeyHash(origin, logId), new TlsWriter().uint64(head.timestamp).finish(), encodeDigitallySigned(signature));
  return `${body}\n${EM_DASH_PREFIX}${origin} ${toBase64(sig)}\n`;
}
