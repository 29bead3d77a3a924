import { readFile } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { parsePublicJwk, parsePublicKeyPem, type PublicKey } from '../core/tokens/keys.js';
import type { SigningKey } from '../core/tokens/sign.js';
import { UsageError } from './exit.js';

/** Most bytes read from one input file or stdin: far above any real token set, small enough to never exhaust memory. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export async function readTextFile(path: string): Promise<string> {
  try {
    const data = await readFile(path);
    if (data.length > MAX_INPUT_BYTES) throw new UsageError(`${path} is larger than ${MAX_INPUT_BYTES} bytes`);
    return data.toString('utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > MAX_INPUT_BYTES) throw new UsageError(`standard input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A public key file: PEM SubjectPublicKeyInfo, a JWK (a private JWK's public half is used), or a COSE_Key in hex.
 * Pretty-printed JSON spanning lines is fine.
 */
export async function readPublicKeyFile(path: string): Promise<PublicKey> {
  const text = (await readTextFile(path)).trim();
  try {
    if (text.includes('-----BEGIN PUBLIC KEY-----')) return await parsePublicKeyPem(text);
    if (text.startsWith('{')) {
      const { d: _d, kid: _kid, ...pub } = JSON.parse(text) as Record<string, unknown>;
      return parsePublicJwk(pub);
    }
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`, err instanceof EmblemError ? err.code : 'KEY_INVALID');
  }
  if (isEncryptedKeyFile(text)) {
    throw new UsageError(`${path} is an encrypted private key (from emblem keygen with a passphrase): give its public key instead (the JWK keygen printed, or its --public-out file)`, 'KEY_INVALID');
  }
  throw new UsageError(`${path} is not a PEM public key or a JWK`, 'KEY_INVALID');
}

/** A JWE in compact form whose protected header names a content encryption ("enc"), as keygen writes. */
function isEncryptedKeyFile(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 5 || !/^[A-Za-z0-9_-]{1,4096}$/.test(parts[0]!)) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as Record<string, unknown>).enc === 'string';
  } catch {
    return false;
  }
}

export function publicKeyMaterial(key: PublicKey, source: string): Material {
  return { kind: 'jwk', jwk: key.jwk, source };
}

/**
 * The passphrase for encrypted key files: --passphrase-file, else $EMBLEM_PASSPHRASE, else none. An empty or
 * whitespace-only one (a file, or the variable set to "") is refused, never taken as "no passphrase".
 */
export async function readPassphrase(passphraseFile?: string, envName = 'EMBLEM_PASSPHRASE'): Promise<string | undefined> {
  const passphrase = passphraseFile ? (await readTextFile(passphraseFile)).replace(/\r?\n$/, '') : process.env[envName];
  if (passphrase === undefined) return undefined;
  // Loaded here, not at start-up: only the commands that read private keys need the key-file module.
  const { assertUsablePassphrase } = await import('../store/key-file.js');
  assertUsablePassphrase(passphrase, passphraseFile ? `passphrase file ${passphraseFile}` : `$${envName}`);
  return passphrase;
}

export async function readSigningKey(path: string, passphraseFile?: string): Promise<SigningKey> {
  const [{ readPrivateKeyFile }, { loadSigningKey }] = await Promise.all([import('../store/key-file.js'), import('../core/tokens/sign.js')]);
  const jwk = await readPrivateKeyFile(path, await readPassphrase(passphraseFile));
  try {
    return await loadSigningKey(jwk);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`, 'KEY_INVALID');
  }
}
