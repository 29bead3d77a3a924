import { open } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { writeFileKeepingOld } from './replace-file.js';

/**
 * Private keys at rest: a JWK, encrypted as a JWE (PBES2-HS512+A256KW, A256GCM) when a passphrase is given, and
 * always written atomically with mode 0600. An existing key file is replaced only on request, and then kept as
 * NAME.replaced-<UTC time> (see replace-file.ts). The key material never appears in logs or error messages.
 */
const PBES2_ITERATIONS = 310_000; // OWASP 2023 guidance for PBKDF2-HMAC-SHA512 is >= 210,000

/** Largest key file read: a P-521 JWK or its JWE is under 1 KiB; a larger file is not a key and is not read whole. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

export type KeyFileFormat = 'jwk' | 'jwe';

/**
 * An empty or whitespace-only passphrase protects nothing: refuse it rather than write a key that only looks
 * encrypted (or, as before, silently write it unencrypted).
 */
export function assertUsablePassphrase(passphrase: string, source: string): void {
  if (passphrase.trim() === '') throw new EmblemError('USAGE', `${source} is empty or only whitespace: refusing it as a passphrase`);
}

export async function encryptPrivateJwk(privateJwk: JsonWebKey, passphrase: string): Promise<string> {
  assertUsablePassphrase(passphrase, 'the passphrase');
  // jose is loaded only when a key is encrypted or decrypted: it costs ~150 ms of start-up for every CLI call.
  const { CompactEncrypt } = await import('jose');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(privateJwk)))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c: PBES2_ITERATIONS })
    .encrypt(new TextEncoder().encode(passphrase));
}

export interface WritePrivateKeyOptions {
  /** Replace an existing file, keeping it as NAME.replaced-<UTC time>; without it an existing file is FILE_EXISTS. */
  replace?: boolean;
  /** The clock for the kept file's name (default: now). */
  now?: Date;
}

/** Writes a private key (encrypted when `passphrase` is given, which must not be empty). */
export async function writePrivateKeyFile(
  path: string,
  privateJwk: JsonWebKey,
  passphrase?: string,
  options: WritePrivateKeyOptions = {},
): Promise<{ encrypted: boolean; keptAs?: string }> {
  const encrypted = passphrase !== undefined;
  const text = encrypted ? await encryptPrivateJwk(privateJwk, passphrase) : JSON.stringify(privateJwk);
  const { keptAs } = await writeFileKeepingOld(path, `${text}\n`, { mode: 0o600, replace: options.replace, now: options.now ?? new Date() });
  return keptAs ? { encrypted, keptAs } : { encrypted };
}

/** Reads a key file's text (bounded) and tells a plain JWK from an encrypted one. */
export async function readKeyFileText(path: string): Promise<{ text: string; format: KeyFileFormat }> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_KEY_FILE_BYTES) throw new EmblemError('KEY_INVALID', `${path} is larger than ${MAX_KEY_FILE_BYTES} bytes: not a key file`);
      text = buffer.subarray(0, bytesRead).toString('utf8').trim();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof EmblemError) throw err;
    throw new EmblemError('USAGE', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.startsWith('{')) return { text, format: 'jwk' };
  if (text.split('.').length === 5) return { text, format: 'jwe' };
  throw new EmblemError('KEY_INVALID', `${path} is neither a JWK nor an encrypted key`);
}

/** The JWK in a key file's text, decrypting a JWE with `passphrase`. */
export async function parsePrivateKeyText(path: string, text: string, format: KeyFileFormat, passphrase?: string): Promise<JsonWebKey> {
  if (format === 'jwk') {
    try {
      return JSON.parse(text) as JsonWebKey;
    } catch {
      // Never JSON.parse's message: it quotes the text, which may be key material.
      throw new EmblemError('KEY_INVALID', `${path} is not valid JSON`);
    }
  }
  if (!passphrase) throw new EmblemError('USAGE', `${path} is encrypted: set EMBLEM_PASSPHRASE or pass --passphrase-file`);
  const { compactDecrypt } = await import('jose');
  try {
    const { plaintext } = await compactDecrypt(text, new TextEncoder().encode(passphrase), {
      keyManagementAlgorithms: ['PBES2-HS512+A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
      // jose caps PBES2 iterations at 10,000 by default (a DoS bound); our own files use more.
      maxPBES2Count: PBES2_ITERATIONS,
    });
    return JSON.parse(new TextDecoder().decode(plaintext)) as JsonWebKey;
  } catch {
    throw new EmblemError('KEY_INVALID', `cannot decrypt ${path}: wrong passphrase or damaged file`);
  }
}

/** Reads a private key file written by `emblem keygen` (plain JWK or JWE). */
export async function readPrivateKeyFile(path: string, passphrase?: string): Promise<JsonWebKey> {
  const { text, format } = await readKeyFileText(path);
  return parsePrivateKeyText(path, text, format, passphrase);
}
