import { readFile } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Private keys at rest: a JWK, encrypted as a JWE (PBES2-HS512+A256KW, A256GCM) when a passphrase is given, and
 * always written atomically with mode 0600. The key material never appears in logs or error messages.
 */
const PBES2_ITERATIONS = 310_000; // OWASP 2023 guidance for PBKDF2-HMAC-SHA512 is >= 210,000

export async function writePrivateKeyFile(path: string, privateJwk: JsonWebKey, passphrase?: string): Promise<{ encrypted: boolean }> {
  const json = JSON.stringify(privateJwk);
  if (!passphrase) {
    await writeFileAtomic(path, `${json}\n`, 0o600);
    return { encrypted: false };
  }
  // jose is loaded only when a key is encrypted or decrypted: it costs ~150 ms of start-up for every CLI call.
  const { CompactEncrypt } = await import('jose');
  const jwe = await new CompactEncrypt(new TextEncoder().encode(json))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c: PBES2_ITERATIONS })
    .encrypt(new TextEncoder().encode(passphrase));
  await writeFileAtomic(path, `${jwe}\n`, 0o600);
  return { encrypted: true };
}

/** Reads a private key file written by `emblem keygen` (plain JWK or JWE). */
export async function readPrivateKeyFile(path: string, passphrase?: string): Promise<JsonWebKey> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new EmblemError('USAGE', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as JsonWebKey;
    } catch {
      throw new EmblemError('KEY_INVALID', `${path} is not valid JSON`);
    }
  }
  if (text.split('.').length === 5) {
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
  throw new EmblemError('KEY_INVALID', `${path} is neither a JWK nor an encrypted key`);
}
