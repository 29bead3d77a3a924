import { KeyStoreErrorCodes, keyStoreError } from '../keys/errors.js';
import { signingKeyFromStore } from '../keys/key-store.js';
import { Pkcs11Key, Pkcs11Token, pkcs11PinFrom, type Pkcs11Algorithm } from '../keys/pkcs11.js';
import type { SigningKey } from '../core/tokens/sign.js';
import type { Pkcs11KeyRef } from './config.js';

/**
 * An organisation's key kept in a PKCS#11 token (issue 10: the root key in a hardware token). The folder holds
 * only the reference (module, token, label, CKA_ID, alg) and the public JWK; the private key is generated in the
 * token, sensitive and not extractable, and every signature it makes — the root endorsement of the emblem key in
 * `org apply`/`org run` — is computed there.
 */
export interface TokenKey {
  signingKey: SigningKey;
  publicJwk: JsonWebKey;
  /** CKA_ID of the pair, hex. */
  id: string;
  close(): void;
}

function idOf(token: Pkcs11Token, key: Pkcs11Key): string {
  const id = token.attributes(key.privateHandle, [token.lib.CKA_ID]).get(token.lib.CKA_ID);
  return Buffer.isBuffer(id) ? id.toString('hex') : '';
}

/** The user PIN for a reference: the CLI's pin file, else the reference's `pinFile`, else $EMBLEM_PKCS11_PIN. */
export function tokenPin(ref: Pkcs11KeyRef, o: { pinFile?: string | undefined; resolvePath: (p: string) => string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const pinFile = o.pinFile ?? (ref.pinFile ? o.resolvePath(ref.pinFile) : undefined);
  return pkcs11PinFrom({ ...(pinFile ? { pinFile } : {}), ...(o.env ? { env: o.env } : {}) });
}

/**
 * Opens the key a configuration names and checks it is that key: the CKA_ID and algorithm recorded at init, and
 * (when given) the public JWK the folder published. A token whose label now names another key is refused rather
 * than signing with a stranger's key.
 */
export async function openTokenKey(ref: Pkcs11KeyRef, o: { field: string; pin: string; expectedPublic?: JsonWebKey }): Promise<TokenKey> {
  const token = await Pkcs11Token.open({ module: ref.module, token: ref.token, pin: o.pin });
  try {
    const key = Pkcs11Key.find(token, ref.label);
    const id = idOf(token, key);
    const mismatch = (what: string) => keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_MISMATCH, `${o.field}: the key labelled "${ref.label}" in token "${ref.token}" ${what}`);
    if (ref.id && id !== ref.id) throw mismatch(`has CKA_ID ${id || '(none)'}, not ${ref.id}`);
    if (key.alg !== ref.alg) throw mismatch(`is ${key.alg}, not ${ref.alg}`);
    const publicJwk = key.publicJwk();
    const want = o.expectedPublic;
    if (want && (want.crv !== publicJwk.crv || want.x !== publicJwk.x || want.y !== publicJwk.y)) throw mismatch('is not the public key in the folder');
    return { signingKey: signingKeyFromStore(key), publicJwk, id, close: () => token.close() };
  } catch (err) {
    token.close();
    throw err;
  }
}

/**
 * Generates a new key pair in the token (never reuses a label: a taken label is PKCS11_KEY_EXISTS). `discard`
 * destroys the pair again, for an init that fails after generating it.
 */
export async function createTokenKey(o: { module: string; token: string; label: string; alg: Pkcs11Algorithm; pin: string }): Promise<TokenKey & { discard(): void }> {
  const token = await Pkcs11Token.open({ module: o.module, token: o.token, pin: o.pin });
  try {
    const key = Pkcs11Key.generate(token, o.label, o.alg);
    const id = idOf(token, key);
    const attributes = key.privateKeyAttributes();
    if (attributes.extractable || !attributes.sensitive || !attributes.token) {
      // A module that ignores the template: do not keep a root key that could leave the token.
      discardPair(token, id);
      throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_UNSUPPORTED, `token "${o.token}" did not make the key sensitive and non-extractable (${JSON.stringify(attributes)}); discarded it`);
    }
    return { signingKey: signingKeyFromStore(key), publicJwk: key.publicJwk(), id, close: () => token.close(), discard: () => discardPair(token, id) };
  } catch (err) {
    token.close();
    throw err;
  }
}

function discardPair(token: Pkcs11Token, idHex: string): void {
  if (!idHex) return;
  for (const handle of token.find([{ type: token.lib.CKA_ID, value: Buffer.from(idHex, 'hex') }, { type: token.lib.CKA_TOKEN, value: true }])) {
    try {
      token.p11.C_DestroyObject(token.session, handle);
    } catch {
      /* best effort: the init error that led here is what the user needs to see */
    }
  }
}
