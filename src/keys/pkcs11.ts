import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as Pkcs11Types from 'pkcs11js';
import { ALGORITHMS, type SignatureAlgorithm } from '../core/tokens/algorithms.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { EmblemError } from '../core/errors.js';
import { KeyStoreErrorCodes, keyStoreError } from './errors.js';
import type { SigningKey } from '../core/tokens/sign.js';
import { signingKeyFromStore, type KeyStoreKey } from './key-store.js';
import { KeyStoreLimits } from './limits.js';

/**
 * Root keys in a PKCS#11 token (issue 10: hardware tokens; tested with SoftHSM2). The private key is generated
 * inside the token as a token object that is sensitive and not extractable, and every signature is made there:
 * the JOSE/COSE signing input is hashed here (SHA-256 for ES256, SHA-512 for ES512) and the token signs the digest
 * with CKM_ECDSA, which returns r || s — exactly the JOSE/COSE form.
 */

type Pkcs11Module = typeof Pkcs11Types;
type Handle = Buffer;

export type Pkcs11Algorithm = Extract<SignatureAlgorithm, 'ES256' | 'ES512'>;

/** DER OIDs (CKA_EC_PARAMS, namedCurve) and digests per algorithm. */
const CURVES: Record<Pkcs11Algorithm, { oid: Buffer; digest: 'sha256' | 'sha512' }> = {
  // 1.2.840.10045.3.1.7 (prime256v1 / P-256)
  ES256: { oid: Buffer.from('06082a8648ce3d030107', 'hex'), digest: 'sha256' },
  // 1.3.132.0.35 (secp521r1 / P-521)
  ES512: { oid: Buffer.from('06052b81040023', 'hex'), digest: 'sha512' },
};

export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** Label of the token (as given to `softhsm2-util --init-token --label`). */
  token: string;
  /** User PIN; see {@link pkcs11PinFrom}. */
  pin: string;
}

/** The user PIN: `--pkcs11-pin-file` (first line) if given, else $EMBLEM_PKCS11_PIN. Never a command-line argument. */
export async function pkcs11PinFrom(options: { pinFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  if (options.pinFile) {
    let text: string;
    try {
      const bytes = await readFile(options.pinFile);
      if (bytes.length > KeyStoreLimits.maxPinFileBytes) throw new Error(`larger than ${KeyStoreLimits.maxPinFileBytes} bytes`);
      text = bytes.toString('utf8');
    } catch (err) {
      throw keyStoreError(KeyStoreErrorCodes.PKCS11_PIN_MISSING, `PIN file ${options.pinFile} unreadable: ${(err as Error).message}`, err);
    }
    const pin = text.split(/\r?\n/)[0] ?? '';
    if (!pin) throw keyStoreError(KeyStoreErrorCodes.PKCS11_PIN_MISSING, `PIN file ${options.pinFile} is empty`);
    return pin;
  }
  const pin = (options.env ?? process.env).EMBLEM_PKCS11_PIN;
  if (!pin) throw keyStoreError(KeyStoreErrorCodes.PKCS11_PIN_MISSING, 'no PKCS#11 PIN: set EMBLEM_PKCS11_PIN or pass --pkcs11-pin-file');
  return pin;
}

function cryptokiError(what: string, err: unknown): EmblemError {
  if (err instanceof EmblemError) return err;
  const message = (err as Error)?.message ?? String(err);
  const code = /CKR_PIN_INCORRECT|CKR_PIN_LOCKED|CKR_PIN_INVALID|CKR_PIN_LEN_RANGE/.test(message) ? KeyStoreErrorCodes.PKCS11_LOGIN_FAILED : KeyStoreErrorCodes.PKCS11_ERROR;
  return keyStoreError(code, `PKCS#11 ${what}: ${message}`, err);
}

/**
 * Loaded modules, shared: Cryptoki is initialised once per module per process (a second C_Initialize fails with
 * CKR_CRYPTOKI_ALREADY_INITIALIZED), and login state is per application, not per session.
 */
const modules = new Map<string, { lib: Pkcs11Module; p11: Pkcs11Types.PKCS11; refs: number }>();

async function loadModule(path: string): Promise<{ lib: Pkcs11Module; p11: Pkcs11Types.PKCS11 }> {
  const cached = modules.get(path);
  if (cached) {
    cached.refs++;
    return cached;
  }
  let lib: Pkcs11Module;
  try {
    lib = ((await import('pkcs11js')) as unknown as { default: Pkcs11Module }).default;
  } catch (err) {
    throw keyStoreError(KeyStoreErrorCodes.PKCS11_MODULE_UNLOADABLE, `the pkcs11js binding is not available: ${(err as Error).message}`, err);
  }
  const p11 = new lib.PKCS11();
  try {
    p11.load(path);
  } catch (err) {
    throw keyStoreError(KeyStoreErrorCodes.PKCS11_MODULE_UNLOADABLE, `cannot load PKCS#11 module ${path}: ${(err as Error).message}`, err);
  }
  try {
    p11.C_Initialize();
  } catch (err) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((err as Error).message)) {
      throw keyStoreError(KeyStoreErrorCodes.PKCS11_MODULE_UNLOADABLE, `cannot initialise PKCS#11 module ${path}: ${(err as Error).message}`, err);
    }
  }
  const entry = { lib, p11, refs: 1 };
  modules.set(path, entry);
  return entry;
}

function releaseModule(path: string): void {
  const entry = modules.get(path);
  if (!entry || --entry.refs > 0) return;
  modules.delete(path);
  try {
    entry.p11.C_Finalize();
  } catch {
    /* already finalised */
  }
}

/** An open, logged-in session on one token. Close it when done (it finalises the module with the last session). */
export class Pkcs11Token {
  private closed = false;

  private constructor(
    readonly lib: Pkcs11Module,
    readonly p11: Pkcs11Types.PKCS11,
    readonly session: Handle,
    private readonly modulePath: string,
  ) {}

  static async open(options: Pkcs11TokenOptions): Promise<Pkcs11Token> {
    const { lib, p11 } = await loadModule(options.module);
    let session: Handle | undefined;
    try {
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === options.token);
      if (!slot) throw keyStoreError(KeyStoreErrorCodes.PKCS11_TOKEN_NOT_FOUND, `no PKCS#11 token labelled "${options.token}" in ${options.module}`);
      session = p11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
      try {
        p11.C_Login(session, lib.CKU_USER, options.pin);
      } catch (err) {
        if (!/CKR_USER_ALREADY_LOGGED_IN/.test((err as Error).message)) {
          const message = (err as Error).message;
          throw keyStoreError(KeyStoreErrorCodes.PKCS11_LOGIN_FAILED, `token "${options.token}" refused the PIN: ${message}`, err);
        }
      }
      return new Pkcs11Token(lib, p11, session, options.module);
    } catch (err) {
      if (session) {
        try {
          p11.C_CloseSession(session);
        } catch {
          /* ignore */
        }
      }
      releaseModule(options.module);
      throw cryptokiError(`opening token "${options.token}"`, err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.p11.C_CloseSession(this.session);
    } catch {
      /* the module may be gone already */
    }
    releaseModule(this.modulePath);
  }

  find(template: Pkcs11Types.Template): Handle[] {
    this.p11.C_FindObjectsInit(this.session, template);
    try {
      return this.p11.C_FindObjects(this.session, KeyStoreLimits.maxFindObjects);
    } finally {
      this.p11.C_FindObjectsFinal(this.session);
    }
  }

  attributes(object: Handle, types: number[]): Map<number, unknown> {
    const result = this.p11.C_GetAttributeValue(this.session, object, types.map((type) => ({ type })));
    return new Map(result.map((a) => [a.type, a.value]));
  }
}

function checkLabel(label: string): void {
  if (!label || Buffer.byteLength(label) > KeyStoreLimits.maxLabelBytes) {
    throw new EmblemError('USAGE', `PKCS#11 key label must be 1..${KeyStoreLimits.maxLabelBytes} bytes`);
  }
}

/** CKA_EC_POINT: a DER OCTET STRING around the uncompressed point (PKCS#11 v2.40), or the bare point (some modules). */
function uncompressedPoint(value: Buffer, coordinateBytes: number): Buffer {
  const pointLength = 1 + 2 * coordinateBytes;
  if (value.length === pointLength && value[0] === 0x04) return value;
  if (value[0] === 0x04) {
    let offset = 2;
    let length = value[1]!;
    if (length & 0x80) {
      const n = length & 0x7f;
      length = 0;
      for (let i = 0; i < n; i++) length = (length << 8) | value[2 + i]!;
      offset = 2 + n;
    }
    const inner = value.subarray(offset, offset + length);
    if (inner.length === pointLength && inner[0] === 0x04) return inner;
  }
  throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_UNSUPPORTED, 'CKA_EC_POINT is not an uncompressed point of the expected curve');
}

/** A key pair in a token, found by label. */
export class Pkcs11Key implements KeyStoreKey {
  private constructor(
    private readonly token: Pkcs11Token,
    readonly alg: Pkcs11Algorithm,
    readonly label: string,
    readonly privateHandle: Handle,
    private readonly jwk: JsonWebKey,
  ) {}

  publicJwk(): JsonWebKey {
    return { ...this.jwk };
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    const { lib, p11, session } = this.token;
    const digest = createHash(CURVES[this.alg].digest).update(data).digest();
    try {
      p11.C_SignInit(session, { mechanism: lib.CKM_ECDSA }, this.privateHandle);
      const out = Buffer.alloc(ALGORITHMS[this.alg].signatureBytes);
      return new Uint8Array(p11.C_Sign(session, digest, out));
    } catch (err) {
      throw cryptokiError(`signing with "${this.label}"`, err);
    }
  }

  /** Security attributes of the private key object, as the token reports them. */
  privateKeyAttributes(): { extractable: boolean; sensitive: boolean; token: boolean; neverExtractable: boolean } {
    const { lib } = this.token;
    const a = this.token.attributes(this.privateHandle, [lib.CKA_EXTRACTABLE, lib.CKA_SENSITIVE, lib.CKA_TOKEN, lib.CKA_NEVER_EXTRACTABLE]);
    const bool = (v: unknown) => (Buffer.isBuffer(v) ? v.length > 0 && v[0] !== 0 : v === true);
    return {
      extractable: bool(a.get(lib.CKA_EXTRACTABLE)),
      sensitive: bool(a.get(lib.CKA_SENSITIVE)),
      token: bool(a.get(lib.CKA_TOKEN)),
      neverExtractable: bool(a.get(lib.CKA_NEVER_EXTRACTABLE)),
    };
  }

  /** Finds the key pair labelled `label` (private key by label, public key by the same CKA_ID, else by label). */
  static find(token: Pkcs11Token, label: string): Pkcs11Key {
    checkLabel(label);
    const { lib } = token;
    try {
      const privates = token.find([
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_LABEL, value: label },
      ]);
      if (privates.length === 0) throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_NOT_FOUND, `no private key labelled "${label}" in the token`);
      if (privates.length > 1) throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_EXISTS, `${privates.length} private keys are labelled "${label}": ambiguous, relabel or delete the extra ones`);
      const privateHandle = privates[0]!;
      const id = token.attributes(privateHandle, [lib.CKA_ID]).get(lib.CKA_ID) as Buffer | undefined;
      const publicTemplate: Pkcs11Types.Template = [
        { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
        id && id.length ? { type: lib.CKA_ID, value: id } : { type: lib.CKA_LABEL, value: label },
      ];
      const publics = token.find(publicTemplate);
      if (publics.length !== 1) throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_NOT_FOUND, `no (single) public key for "${label}" in the token`);
      const a = token.attributes(publics[0]!, [lib.CKA_KEY_TYPE, lib.CKA_EC_PARAMS, lib.CKA_EC_POINT]);
      const keyType = a.get(lib.CKA_KEY_TYPE) as Buffer;
      if (!Buffer.isBuffer(keyType) || keyType.readUIntLE(0, Math.min(keyType.length, 6)) !== lib.CKK_EC) {
        throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_UNSUPPORTED, `"${label}" is not an EC key`);
      }
      const params = a.get(lib.CKA_EC_PARAMS) as Buffer;
      const alg = (Object.keys(CURVES) as Pkcs11Algorithm[]).find((k) => CURVES[k].oid.equals(params));
      if (!alg) throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_UNSUPPORTED, `"${label}" is on a curve other than P-256 or P-521`);
      const info = ALGORITHMS[alg];
      const point = uncompressedPoint(a.get(lib.CKA_EC_POINT) as Buffer, info.coordinateBytes);
      const jwk = {
        kty: 'EC',
        crv: info.crv,
        x: point.subarray(1, 1 + info.coordinateBytes).toString('base64url'),
        y: point.subarray(1 + info.coordinateBytes).toString('base64url'),
        alg,
      };
      parsePublicJwk(jwk); // validates the point is on the curve
      return new Pkcs11Key(token, alg, label, privateHandle, jwk);
    } catch (err) {
      throw cryptokiError(`looking up key "${label}"`, err);
    }
  }

  /**
   * Generates a key pair inside the token: the private key is a token object, private, sensitive, not extractable
   * (CKA_NEVER_EXTRACTABLE follows), usable only for signing. Refuses a label that is already taken.
   */
  static generate(token: Pkcs11Token, label: string, alg: Pkcs11Algorithm): Pkcs11Key {
    checkLabel(label);
    const { lib, p11, session } = token;
    if (!(alg in CURVES)) throw new EmblemError('USAGE', `PKCS#11 keys are ES256 (P-256) or ES512 (P-521), not ${alg}`);
    const taken = token.find([{ type: lib.CKA_LABEL, value: label }, { type: lib.CKA_TOKEN, value: true }]);
    if (taken.length) throw keyStoreError(KeyStoreErrorCodes.PKCS11_KEY_EXISTS, `the token already holds an object labelled "${label}"`);
    const id = randomBytes(16);
    try {
      p11.C_GenerateKeyPair(
        session,
        { mechanism: lib.CKM_EC_KEY_PAIR_GEN },
        [
          { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
          { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
          { type: lib.CKA_TOKEN, value: true },
          { type: lib.CKA_PRIVATE, value: false },
          { type: lib.CKA_VERIFY, value: true },
          { type: lib.CKA_LABEL, value: label },
          { type: lib.CKA_ID, value: id },
          { type: lib.CKA_EC_PARAMS, value: CURVES[alg].oid },
        ],
        [
          { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
          { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
          { type: lib.CKA_TOKEN, value: true },
          { type: lib.CKA_PRIVATE, value: true },
          { type: lib.CKA_SENSITIVE, value: true },
          { type: lib.CKA_EXTRACTABLE, value: false },
          { type: lib.CKA_SIGN, value: true },
          { type: lib.CKA_DERIVE, value: false },
          { type: lib.CKA_LABEL, value: label },
          { type: lib.CKA_ID, value: id },
        ],
      );
    } catch (err) {
      throw cryptokiError(`generating ${alg} key "${label}"`, err);
    }
    return Pkcs11Key.find(token, label);
  }
}

/**
 * Opens the token and the key labelled `label` (generating it first when `generate` names an algorithm and the
 * label is free), returning a SigningKey for the token signer and a close function.
 */
export async function openPkcs11SigningKey(
  options: Pkcs11TokenOptions & { label: string; generate?: Pkcs11Algorithm },
): Promise<{ key: Pkcs11Key; signingKey: SigningKey; close: () => void }> {
  const token = await Pkcs11Token.open(options);
  try {
    let key: Pkcs11Key;
    try {
      key = Pkcs11Key.find(token, options.label);
    } catch (err) {
      if (!options.generate || (err as EmblemError).code !== KeyStoreErrorCodes.PKCS11_KEY_NOT_FOUND) throw err;
      key = Pkcs11Key.generate(token, options.label, options.generate);
    }
    return { key, signingKey: signingKeyFromStore(key), close: () => token.close() };
  } catch (err) {
    token.close();
    throw err;
  }
}
