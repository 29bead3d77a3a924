import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { evidenceError, EvidenceErrorCodes } from './errors.js';
import { EvidenceLimits } from './limits.js';
import { fromBase64Strict, toBase64 } from './base64.js';

/**
 * C2SP signed-note: a UTF-8 text ending in a newline, a blank line, then one signature line per key:
 * "— <key name> <base64(4-byte key hash || signature)>". The observer signs with Ed25519 (signature type 0x01).
 * Lines of keys we do not know (witness co-signatures, C2SP tlog-cosignature) are kept and ignored unless the
 * caller asks for that key. Everything parsed here is hostile input (HTTP mirrors, bundles), so it is bounded and
 * strict, and failures are EVIDENCE_NOTE_MALFORMED, never exceptions of another kind.
 */
export const ED25519_SIGNATURE_TYPE = 0x01;
const EM_DASH = '\u2014';

export interface NoteSignature {
  name: string;
  keyHash: Uint8Array;
  /** The signature bytes after the key hash (64 for Ed25519; other types are kept opaque). */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending in "\n" (the message the signatures cover). */
  text: string;
  signatures: NoteSignature[];
}

export interface NoteVerifier {
  name: string;
  keyHash: Uint8Array;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface NoteSigner extends NoteVerifier {
  privateKey: KeyObject;
}

function malformed(why: string): never {
  throw evidenceError(EvidenceErrorCodes.EVIDENCE_NOTE_MALFORMED, `signed note: ${why}`);
}

function badKey(why: string): never {
  throw evidenceError(EvidenceErrorCodes.EVIDENCE_KEY_INVALID, why);
}

/** Key names: non-empty, printable, no whitespace and no "+" (the key text's separator). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.length <= EvidenceLimits.maxNameLength && /^[\x21-\x2a\x2c-\x7e]+$/.test(name);
}

/** First 4 bytes of SHA-256(name || "\n" || type || public key). */
export function noteKeyHash(name: string, publicKey: Uint8Array, type = ED25519_SIGNATURE_TYPE): Uint8Array {
  const h = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, type)).update(publicKey).digest();
  return new Uint8Array(h.subarray(0, 4));
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Verifier key text: "<name>+<8 hex digits of the key hash>+<base64(0x01 || public key)>". */
export function formatVerifierKey(v: NoteVerifier): string {
  return `${v.name}+${hex(v.keyHash)}+${toBase64(Uint8Array.of(ED25519_SIGNATURE_TYPE, ...v.publicKey))}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.length > 1024) badKey('verifier key: too long');
  // The base64 key may itself contain "+": split at the first two only.
  const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(t);
  if (!m) badKey('verifier key: expected <name>+<hash>+<key>');
  const [, name, hashHex, keyText] = m as unknown as [string, string, string, string];
  if (!isValidKeyName(name)) badKey('verifier key: bad key name');
  if (!/^[0-9a-f]{8}$/.test(hashHex)) badKey('verifier key: the key hash is not 8 hex digits');
  const raw = fromBase64Strict(keyText, 64);
  if (!raw || raw.length !== 33 || raw[0] !== ED25519_SIGNATURE_TYPE) badKey('verifier key: not an Ed25519 key (type 0x01 and 32 bytes)');
  const publicKey = raw.subarray(1);
  const keyHash = noteKeyHash(name, publicKey);
  if (hex(keyHash) !== hashHex) badKey('verifier key: the key hash does not match the name and key');
  return { name, keyHash, publicKey };
}

/** The private key text: "PRIVATE+KEY+<name>+<hash>+<base64(0x01 || 32-byte seed)>" (the Go note package's form). */
export function formatSignerKey(s: NoteSigner): string {
  const jwk = s.privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(String(jwk.d), 'base64url');
  return `PRIVATE+KEY+${s.name}+${hex(s.keyHash)}+${toBase64(Uint8Array.of(ED25519_SIGNATURE_TYPE, ...seed))}`;
}

/** Never quotes the text in errors: it is key material. */
export function parseSignerKey(text: string): NoteSigner {
  const m = /^PRIVATE\+KEY\+([^+]*)\+([^+]*)\+(.*)$/s.exec(text.trim());
  if (!m) badKey('observer key: not a signed-note private key');
  const parts = ['PRIVATE', 'KEY', m[1]!, m[2]!, m[3]!];
  const name = parts[2]!;
  if (!isValidKeyName(name)) badKey('observer key: bad key name');
  const raw = fromBase64Strict(parts[4], 64);
  if (!raw || raw.length !== 33 || raw[0] !== ED25519_SIGNATURE_TYPE) badKey('observer key: not an Ed25519 seed');
  let privateKey: KeyObject;
  try {
    // PKCS#8 for Ed25519 is a fixed 16-byte prefix followed by the seed (RFC 8410).
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw.subarray(1)]);
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    badKey('observer key: unusable Ed25519 seed');
  }
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const keyHash = noteKeyHash(name, publicKey);
  if (hex(keyHash) !== parts[3]) badKey('observer key: the key hash does not match');
  return { name, keyHash, publicKey, privateKey };
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(String(key.export({ format: 'jwk' }).x), 'base64url'));
}

export function generateSigner(name: string): NoteSigner {
  if (!isValidKeyName(name)) badKey(`bad key name ${JSON.stringify(name)} (no spaces or "+")`);
  // Encoded by the generation itself and re-imported: exporting a freshly generated KeyObject (as formatSignerKey
  // does) can deadlock node 20 (a GC during the export finalises the generation job, which takes the key's lock the
  // export holds; docs/performance.md). An Ed25519 SPKI is a fixed 12-byte head and the 32-byte key.
  const { privateKey: pkcs8, publicKey: spki } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const raw = new Uint8Array(spki.subarray(spki.length - 32));
  return { name, publicKey: raw, keyHash: noteKeyHash(name, raw), privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) malformed('the text does not end in a newline');
  // Printable text and newlines only: no CR, tabs or other controls that render differently to different readers.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) malformed('control character in the text');
}

/** Signs `text` (which must end in "\n") and returns the full note. */
export function signNote(text: string, signer: NoteSigner, extra: readonly NoteSignature[] = []): string {
  checkText(text);
  const sig = new Uint8Array(edSign(null, Buffer.from(text, 'utf8'), signer.privateKey));
  return formatNote({ text, signatures: [{ name: signer.name, keyHash: signer.keyHash, signature: sig }, ...extra] });
}

export function formatNote(note: SignedNote): string {
  const lines = note.signatures.map((s) => `${EM_DASH} ${s.name} ${toBase64(Uint8Array.of(...s.keyHash, ...s.signature))}\n`);
  return `${note.text}\n${lines.join('')}`;
}

export function parseNote(input: string): SignedNote {
  if (typeof input !== 'string') malformed('not text');
  if (Buffer.byteLength(input, 'utf8') > EvidenceLimits.maxNoteBytes) malformed(`larger than ${EvidenceLimits.maxNoteBytes} bytes`);
  if (input.includes('\uFFFD')) malformed('not valid UTF-8');
  const split = input.lastIndexOf('\n\n');
  if (split < 0 || !input.endsWith('\n')) malformed('no blank line before the signatures, or no final newline');
  const text = input.slice(0, split + 1);
  checkText(text);
  if (text.split('\n').slice(0, -1).some((l) => l === '')) malformed('empty line in the text');
  const block = input.slice(split + 2, -1);
  if (block === '') malformed('no signature lines');
  const signatures: NoteSignature[] = [];
  for (const line of block.split('\n')) {
    if (signatures.length >= EvidenceLimits.maxNoteSignatures) malformed('too many signatures');
    if (!line.startsWith(`${EM_DASH} `)) malformed('a signature line does not start with an em dash and a space');
    const fields = line.slice(2).split(' ');
    if (fields.length !== 2) malformed('a signature line is not "— <name> <signature>"');
    const [name, blobText] = fields as [string, string];
    if (!isValidKeyName(name)) malformed('bad key name in a signature line');
    const blob = fromBase64Strict(blobText, 4096);
    if (!blob || blob.length < 5) malformed('signature is not base64 of a key hash and a signature');
    signatures.push({ name, keyHash: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  return { text, signatures };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * True when the note carries a valid signature by `verifier` (matched by name and key hash). Other lines are
 * ignored: a witness's co-signature neither helps nor hurts unless its key is asked for.
 */
export function noteSignedBy(note: SignedNote, verifier: NoteVerifier): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(verifier.publicKey).toString('base64url') }, format: 'jwk' });
  const message = Buffer.from(note.text, 'utf8');
  return note.signatures.some(
    (s) => s.name === verifier.name && sameBytes(s.keyHash, verifier.keyHash) && s.signature.length === 64 && edVerify(null, message, key, s.signature),
  );
}
