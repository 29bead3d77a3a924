import { createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toBase64 } from './bytes.js';
import { SCT_LIST_OID, PRECERT_POISON_OID, toPem } from './certificate-parse.js';
import type { HttpClient } from './http.js';
import { leafHashOf, logEntriesFromChain, x509EntryFor, type LogEntryJson } from './leaf-hash.js';
import { encodeSctList, leafIndexFromExtensions, type SignedCertificateTimestamp } from './sct.js';
import { submitChain } from './submission.js';

/**
 * A throw-away certificate authority for tests and the demo: it issues the binding certificates that commit ADEM
 * root keys (SPEC-NOTES §1.5) and gets them logged by a (local) CT log, like a public CA does with precertificates.
 * Certificates are built with pkijs and signed with WebCrypto ECDSA P-256.
 */
export interface LocalCa {
  name: string;
  certificate: Uint8Array;
  pem: string;
  privateKey: webcrypto.CryptoKey;
  /** Its certificate, then its issuers up to the root (a root CA: just its certificate). */
  chain?: Uint8Array[];
}

/** What to submit above a certificate this CA issued. */
function chainAbove(ca: LocalCa): Uint8Array[] {
  return ca.chain ?? [ca.certificate];
}

const crypto = webcrypto as unknown as Crypto;
const engine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto });

function cn(value: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value }) })],
  });
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock | ArrayBuffer): pkijs.Extension {
  const der = value instanceof ArrayBuffer ? value : value.toBER(false);
  return new pkijs.Extension({ extnID, critical, extnValue: der });
}

function serial(): asn1js.Integer {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // positive
  bytes[0]! |= 0x01;
  return new asn1js.Integer({ valueHex: bytes });
}

interface CertificateTemplate {
  issuer: pkijs.RelativeDistinguishedNames;
  subject: pkijs.RelativeDistinguishedNames;
  serialNumber: asn1js.Integer;
  notBefore: Date;
  notAfter: Date;
  spki: ArrayBuffer;
  extensions: pkijs.Extension[];
}

async function build(t: CertificateTemplate, signer: webcrypto.CryptoKey): Promise<Uint8Array> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = t.serialNumber;
  cert.issuer = t.issuer;
  cert.subject = t.subject;
  cert.notBefore.value = t.notBefore;
  cert.notAfter.value = t.notAfter;
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(t.spki);
  cert.extensions = t.extensions;
  await cert.sign(signer as CryptoKey, 'SHA-256', engine);
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

function floorToSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export interface LocalCaOptions {
  name?: string;
  now?: Date;
  validDays?: number;
  /** Exact validity (tests): overrides `now` / `validDays`. */
  notBefore?: Date;
  notAfter?: Date;
  /** Issue this CA's certificate from another CA (an intermediate) instead of self-signing it (a root). */
  issuer?: LocalCa;
  /**
   * basicConstraints cA (default true). false makes an end-entity certificate whose private key signs anyway: the
   * forged-chain case of the CT chain tests (an organisation's own binding certificate key used as a CA).
   */
  isCa?: boolean;
  /** keyUsage keyCertSign (default: as `isCa`; without it only digitalSignature, like a TLS leaf certificate). */
  keyCertSign?: boolean;
  /** DNS names (SANs) of the certificate, e.g. for an end-entity "CA" that is an organisation's binding certificate. */
  dnsNames?: string[];
}

export async function createLocalCa(options: LocalCaOptions = {}): Promise<LocalCa> {
  const name = options.name ?? 'Emblem Local CA';
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = floorToSecond(options.now ?? options.notBefore ?? new Date());
  const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  const isCa = options.isCa ?? true;
  // KeyUsage bits: digitalSignature 0x80, keyCertSign 0x04, cRLSign 0x02 (first byte, most significant bit first).
  const usage = !(options.keyCertSign ?? isCa) ? 0x80 : isCa ? 0x06 : 0x84;
  const issuerCert = options.issuer ? pkijs.Certificate.fromBER(new Uint8Array(options.issuer.certificate)) : null;
  const extensions = [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: isCa }).toSchema()),
    extension('2.5.29.15', true, new asn1js.BitString({ valueHex: Uint8Array.of(usage).buffer, unusedBits: 1 })),
  ];
  if (options.dnsNames?.length) {
    const san = new pkijs.AltName({ altNames: options.dnsNames.map((n) => new pkijs.GeneralName({ type: 2, value: n })) });
    extensions.push(extension('2.5.29.17', false, san.toSchema()));
  }
  const certificate = await build(
    {
      issuer: issuerCert ? issuerCert.subject : cn(name),
      subject: cn(name),
      serialNumber: serial(),
      notBefore: floorToSecond(options.notBefore ?? new Date(now.getTime() - 3600_000)),
      notAfter: floorToSecond(options.notAfter ?? new Date(now.getTime() + (options.validDays ?? 3650) * 86400_000)),
      spki,
      extensions,
    },
    options.issuer ? options.issuer.privateKey : keys.privateKey,
  );
  return {
    name,
    certificate,
    pem: toPem(certificate),
    privateKey: keys.privateKey as webcrypto.CryptoKey,
    ...(options.issuer ? { chain: [certificate, ...chainAbove(options.issuer)] } : {}),
  };
}

/** The names a binding certificate carries so GO-JWT, adem-js and spec-following validators all accept it (§5.7). */
export function bindingNames(host: string, kid: string): string[] {
  return [host, `adem-configuration.${host}`, `${kid}.adem-configuration.${host}`];
}

export interface IssueOptions {
  /** DNS names (SANs); the first is also the subject CN. */
  dnsNames: string[];
  /** The certified public key; default a fresh P-256 key (the binding is in the names, not the key). */
  publicKey?: JsonWebKey;
  notBefore?: Date;
  notAfter?: Date;
}

async function leafTemplate(ca: LocalCa, o: IssueOptions): Promise<CertificateTemplate> {
  let spki: ArrayBuffer;
  if (o.publicKey) {
    const { d: _private, ...pub } = o.publicKey as JsonWebKey & { d?: string };
    spki = new Uint8Array(createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'der' })).buffer;
  } else {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])) as CryptoKeyPair;
    spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  }
  const now = floorToSecond(new Date());
  const san = new pkijs.AltName({ altNames: o.dnsNames.map((n) => new pkijs.GeneralName({ type: 2, value: n })) });
  const caCert = pkijs.Certificate.fromBER(new Uint8Array(ca.certificate));
  return {
    issuer: caCert.subject,
    subject: cn(o.dnsNames[0] ?? 'emblem'),
    serialNumber: serial(),
    notBefore: floorToSecond(o.notBefore ?? new Date(now.getTime() - 60_000)),
    notAfter: floorToSecond(o.notAfter ?? new Date(now.getTime() + 90 * 86400_000)),
    spki,
    extensions: [
      extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
      extension('2.5.29.17', false, san.toSchema()),
    ],
  };
}

/** Issues a certificate without CT (add-chain it yourself, or use it where no log is wanted). */
export async function issueCertificate(ca: LocalCa, o: IssueOptions): Promise<Uint8Array> {
  return build(await leafTemplate(ca, o), ca.privateKey);
}

export interface LoggedCertificate {
  /** Leaf first, then the CA certificate (and its issuers, for an intermediate CA). */
  chain: Uint8Array[];
  chainPem: string;
  sct: SignedCertificateTimestamp;
  /** The `log` entries pointing at it: RFC 6962 leaf hash, and static-ct index (the local log serves both). */
  v1: LogEntryJson;
  static: LogEntryJson;
}

/**
 * Issues a certificate and logs it. `precertificate` (default) follows the public-CA flow: log a precertificate
 * (add-pre-chain), embed the SCT in the final certificate, and derive the `log` entry from the final certificate
 * exactly as `emblem ct leafhash` does. Otherwise the final certificate is submitted with add-chain (x509 entry).
 */
export async function issueLoggedCertificate(
  ca: LocalCa,
  logUrl: string,
  o: IssueOptions & { precertificate?: boolean; http?: HttpClient },
): Promise<LoggedCertificate> {
  const template = await leafTemplate(ca, o);
  const http = o.http ? { http: o.http } : {};
  const above = chainAbove(ca);
  if (o.precertificate === false) {
    const leaf = await build(template, ca.privateKey);
    const sct = await submitChain(logUrl, [leaf, ...above], http);
    return finish([leaf, ...above], sct, toBase64(leafHashOf(x509EntryFor(leaf, sct.timestamp, sct.extensions))));
  }
  const poison = extension(PRECERT_POISON_OID, true, new asn1js.Null());
  const precert = await build({ ...template, extensions: [...template.extensions, poison] }, ca.privateKey);
  const sct = await submitChain(logUrl, [precert, ...above], { ...http, precertificate: true });
  const sctExtension = extension(SCT_LIST_OID, false, new asn1js.OctetString({ valueHex: encodeSctList([sct]).slice().buffer }));
  const leaf = await build({ ...template, extensions: [...template.extensions, sctExtension] }, ca.privateKey);
  const [embedded] = logEntriesFromChain([leaf, ...above]);
  return finish([leaf, ...above], sct, embedded!.leafHash);
}

function finish(chain: Uint8Array[], sct: SignedCertificateTimestamp, leafHash: string): LoggedCertificate {
  const id = toBase64(sct.logId);
  const index = leafIndexFromExtensions(sct.extensions);
  return {
    chain,
    chainPem: chain.map(toPem).join(''),
    sct,
    v1: { ver: 'v1', id, hash: leafHash },
    static: { ver: 'static', id, index: index ?? -1 },
  };
}

/**
 * The demo's one call: a binding certificate for `kid`'s key under `host` (names `<host>`,
 * `adem-configuration.<host>`, `<kid>.adem-configuration.<host>`), logged in the log at `logUrl`.
 * Put `result.v1` (or `result.static`) into the root endorsement's `log` claim.
 */
export async function issueBindingCertificate(
  ca: LocalCa,
  logUrl: string,
  binding: { host: string; kid: string; publicKey?: JsonWebKey; precertificate?: boolean },
): Promise<LoggedCertificate> {
  return issueLoggedCertificate(ca, logUrl, {
    dnsNames: bindingNames(binding.host, binding.kid),
    ...(binding.publicKey ? { publicKey: binding.publicKey } : {}),
    ...(binding.precertificate !== undefined ? { precertificate: binding.precertificate } : {}),
  });
}
