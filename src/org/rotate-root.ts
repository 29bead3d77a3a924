import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { generateSigningKey } from '../core/tokens/sign.js';
import type { SignatureAlgorithm } from '../core/tokens/algorithms.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { writePrivateKeyFile } from '../store/key-file.js';
import { loadConfig, saveConfig, settings, type KeyRef } from './config.js';
import { folderPath } from './sign.js';

/**
 * Root-key rotation (issue 10). The new root key becomes `keys.root`, the old reference `keys.previousRoot` (its
 * file or token object is kept, never deleted). The binding certificate names the old key, so `org apply` refuses
 * to sign (BINDING_STALE) until `org cert` (or `org set-binding`) commits the new one; meanwhile the published sets
 * of the old root stay valid. Endorsements by authorities name the old root key and do not carry over: they must
 * be requested again.
 */
export interface RootRotation {
  kid: string;
  previousKid: string | null;
  /** Names the new binding certificate must carry (as `org init` prints them). */
  bindingNames: string[];
  place: { kind: 'file'; file: string } | { kind: 'pkcs11'; token: string; label: string; id: string };
  /** Received endorsements in the config: they endorse the previous root key. */
  staleEndorsements: string[];
}

const ALG_OF_CURVE: Record<string, SignatureAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

async function publicOf(dir: string, ref: KeyRef): Promise<JsonWebKey | null> {
  if (!ref.public) return null;
  try {
    const { d: _d, ...pub } = JSON.parse(await readFile(folderPath(dir, ref.public), 'utf8')) as Record<string, unknown>;
    return pub as JsonWebKey;
  } catch {
    return null;
  }
}

export async function rotateRootKey(dir: string, o: { passphrase: string | undefined; now: number; pkcs11Pin?: () => Promise<string> }): Promise<RootRotation> {
  const config = await loadConfig(dir);
  const old = config.keys.root;
  const oldPublic = await publicOf(dir, old);
  const previousKid = oldPublic ? parsePublicJwk(oldPublic as Record<string, unknown>).jwsKid : null;
  const stamp = new Date(o.now * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const pub = `keys/root-${stamp}.pub.jwk`;
  if (existsSync(join(dir, pub))) throw new EmblemError('USAGE', `${pub} exists; rotate again later`);
  let publicJwk: JsonWebKey;
  let place: RootRotation['place'];
  let next: KeyRef;
  if (old.pkcs11) {
    // Same token, a new pair under a new label: the old pair stays in the token (the previous sets it signed are
    // still published until the new ones verify).
    const { createTokenKey, tokenPin } = await import('./token-key.js');
    const pin = o.pkcs11Pin ? await o.pkcs11Pin() : await tokenPin(old.pkcs11, { resolvePath: (p) => folderPath(dir, p) });
    const label = `${old.pkcs11.label.replace(/-\d{8}T\d{6}Z$/, '')}-${stamp}`.slice(0, 128);
    const created = await createTokenKey({ module: old.pkcs11.module, token: old.pkcs11.token, label, alg: old.pkcs11.alg, pin });
    try {
      publicJwk = created.publicJwk;
      next = { pkcs11: { ...old.pkcs11, label, id: created.id }, public: pub };
      place = { kind: 'pkcs11', token: old.pkcs11.token, label, id: created.id };
      await writeFileAtomic(join(dir, pub), `${JSON.stringify(publicJwk)}\n`);
    } catch (err) {
      created.discard();
      throw err;
    } finally {
      created.close();
    }
  } else {
    const alg = ALG_OF_CURVE[String(oldPublic?.crv)] ?? 'ES256';
    const fresh = await generateSigningKey(alg);
    const file = `keys/root-${stamp}.jwk`;
    if (existsSync(join(dir, file))) throw new EmblemError('USAGE', `${file} exists; rotate again later`);
    await writePrivateKeyFile(join(dir, file), fresh.privateJwk, o.passphrase);
    publicJwk = fresh.key.publicKey.jwk;
    await writeFileAtomic(join(dir, pub), `${JSON.stringify(publicJwk)}\n`);
    next = { file, public: pub };
    place = { kind: 'file', file };
  }
  config.keys.previousRoot = old;
  config.keys.root = next;
  await saveConfig(dir, config);
  const key = parsePublicJwk(publicJwk as Record<string, unknown>);
  const host = settings(config).host;
  return {
    kid: key.jwsKid,
    previousKid,
    bindingNames: [host, `adem-configuration.${host}`, `${key.jwsKid}.adem-configuration.${host}`, ...(config.era !== 'jws' ? [`${key.coseKidText}.adem-configuration.${host}`] : [])],
    place,
    staleEndorsements: config.endorsements ?? [],
  };
}
