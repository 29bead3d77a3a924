import { evidenceError, EvidenceErrorCodes } from './errors.js';
import { EvidenceLimits } from './limits.js';
import { fromBase64Strict, toBase64 } from './base64.js';
import { noteSignedBy, parseNote, parseVerifierKey, signNote, type NoteSigner, type NoteVerifier, type SignedNote } from './signed-note.js';

/**
 * C2SP tlog-checkpoint: the signed note's text is "<origin>\n<tree size>\n<base64 root hash>\n" plus optional
 * extension lines (we write none and keep any we read).
 */
export interface EvidenceCheckpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions: string[];
  note: SignedNote;
}

function malformed(why: string): never {
  throw evidenceError(EvidenceErrorCodes.EVIDENCE_NOTE_MALFORMED, `checkpoint: ${why}`);
}

export function checkpointText(origin: string, size: number, rootHash: Uint8Array): string {
  return `${origin}\n${size}\n${toBase64(rootHash)}\n`;
}

export function signCheckpoint(origin: string, size: number, rootHash: Uint8Array, signer: NoteSigner): string {
  return signNote(checkpointText(origin, size, rootHash), signer);
}

/** Parses (does not verify) a checkpoint note. */
export function parseCheckpoint(input: string): EvidenceCheckpoint {
  const note = parseNote(input);
  const lines = note.text.slice(0, -1).split('\n');
  if (lines.length < 3) malformed('the text needs an origin, a tree size and a root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length > EvidenceLimits.maxNameLength) malformed('origin line too long');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) malformed('bad tree size line');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) malformed('tree size too large');
  const rootHash = fromBase64Strict(rootText, 32);
  if (!rootHash || rootHash.length !== 32) malformed('the root hash is not 32 bytes of base64');
  if (extensions.length > EvidenceLimits.maxCheckpointExtensions) malformed('too many extension lines');
  return { origin, size, rootHash, extensions, note };
}

/**
 * Parses a checkpoint and checks the observer's signature; `origin` (when given) must match. Witness keys, when
 * given, must each have signed too (co-signature lines are otherwise ignored).
 */
export function verifyCheckpoint(
  input: string,
  observer: NoteVerifier | string,
  options: { origin?: string; witnesses?: readonly (NoteVerifier | string)[] } = {},
): EvidenceCheckpoint {
  const verifier = typeof observer === 'string' ? parseVerifierKey(observer) : observer;
  const cp = parseCheckpoint(input);
  if (!noteSignedBy(cp.note, verifier)) {
    throw evidenceError(EvidenceErrorCodes.EVIDENCE_SIGNATURE_INVALID, `checkpoint: no valid signature by ${verifier.name}`);
  }
  for (const w of options.witnesses ?? []) {
    const wv = typeof w === 'string' ? parseVerifierKey(w) : w;
    if (!noteSignedBy(cp.note, wv)) throw evidenceError(EvidenceErrorCodes.EVIDENCE_SIGNATURE_INVALID, `checkpoint: no valid co-signature by witness ${wv.name}`);
  }
  if (options.origin !== undefined && cp.origin !== options.origin) {
    throw evidenceError(EvidenceErrorCodes.EVIDENCE_ORIGIN_MISMATCH, `checkpoint is for ${JSON.stringify(cp.origin)}, not ${JSON.stringify(options.origin)}`);
  }
  return cp;
}
