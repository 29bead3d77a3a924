import * as pkijs from 'pkijs';
import { sha256 } from '../core/hash.js';
import { concatBytes, fromBase64, toBase64, toHex } from './bytes.js';
import { derChildren, encodeDerElement, encodeOidContent, readDerElement, type DerElement } from './der.js';
import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';

/** RFC 6962 §3.3: X.509v3 extension carrying the SignedCertificateTimestampList in a final certificate. */
export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
/** RFC 6962 §3.1: critical poison extension that makes a precertificate unusable as a certificate. */
export const PRECERT_POISON_OID = '1.3.6.1.4.1.11129.2.4.3';
const SAN_OID = '2.5.29.17';
const CN_OID = '2.5.4.3';

/** What the binding check and the reports need to know about a logged certificate. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS names from the SAN extension, lower-cased, in certificate order. */
  dnsNames: string[];
  /** Subject common name, if any (prototypes treat it as one more name). */
  commonName: string | null;
}

/** PEM certificates of a chain file, or (with `max` = CtLimits.maxTrustStoreCertificates) of a CA bundle. */
export function parsePemCertificates(text: string, max: number = CtLimits.maxChainLength): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;
  for (const m of text.matchAll(re)) {
    if (out.length >= max) {
      throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, `more than ${max} certificates`);
    }
    const der = fromBase64(m[1]!.replace(/\s+/g, ''));
    if (!der || der.length === 0 || der.length > CtLimits.maxCertificateBytes) {
      throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'certificate empty or too large');
    }
    out.push(der);
  }
  return out;
}

export function toPem(der: Uint8Array): string {
  const b64 = toBase64(der).replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

interface TbsLayout {
  tbs: DerElement;
  fields: DerElement[];
}

function tbsLayout(tbsDer: Uint8Array): TbsLayout {
  const tbs = readDerElement(tbsDer, 0);
  if (tbs.tag !== 0x30 || tbs.end !== tbsDer.length) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'TBSCertificate is not one SEQUENCE');
  return { tbs, fields: derChildren(tbsDer, tbs) };
}

/** The DER TBSCertificate inside a certificate. */
export function tbsOf(certDer: Uint8Array): Uint8Array {
  const cert = readDerElement(certDer, 0);
  if (cert.tag !== 0x30 || cert.end !== certDer.length) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'certificate is not one SEQUENCE');
  const [tbs] = derChildren(certDer, cert);
  if (!tbs || tbs.tag !== 0x30) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'certificate has no TBSCertificate');
  return certDer.subarray(tbs.start, tbs.end);
}

/** The DER SubjectPublicKeyInfo of a certificate (its SHA-256 is RFC 6962's issuer_key_hash). */
export function subjectPublicKeyInfoOf(certDer: Uint8Array): Uint8Array {
  const tbsDer = tbsOf(certDer);
  const { fields } = tbsLayout(tbsDer);
  // Fields: [0] version (optional, context tag 0xa0), serial, signature, issuer, validity, subject, spki.
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const spki = fields[offset + 5];
  if (!spki || spki.tag !== 0x30) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'certificate has no SubjectPublicKeyInfo');
  return tbsDer.subarray(spki.start, spki.end);
}

export function issuerKeyHash(issuerCertDer: Uint8Array): Uint8Array {
  return sha256(subjectPublicKeyInfoOf(issuerCertDer));
}

function tbsHasExtension(tbsDer: Uint8Array, oid: string): boolean {
  return findExtension(tbsDer, oid) !== null;
}

function findExtension(tbsDer: Uint8Array, oid: string): { extensions: DerElement; wrapper: DerElement; ext: DerElement } | null {
  const { fields } = tbsLayout(tbsDer);
  const wrapper = fields.find((f) => f.tag === 0xa3);
  if (!wrapper) return null;
  const [extensions] = derChildren(tbsDer, wrapper);
  if (!extensions || extensions.tag !== 0x30) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'malformed extensions');
  const want = encodeOidContent(oid);
  for (const ext of derChildren(tbsDer, extensions)) {
    const [id] = derChildren(tbsDer, ext);
    if (!id || id.tag !== 0x06) continue;
    const content = tbsDer.subarray(id.contentStart, id.end);
    if (content.length === want.length && content.every((b, i) => b === want[i])) return { extensions, wrapper, ext };
  }
  return null;
}

/**
 * TBSCertificate with one extension removed, every other byte unchanged (RFC 6962 §3.2: the precert TBS a log
 * hashes is the final certificate's TBS without the SCT list, or the precertificate's TBS without the poison).
 * Lengths of the three enclosing elements are re-encoded; nothing else is touched.
 */
export function tbsWithoutExtension(tbsDer: Uint8Array, oid: string): Uint8Array {
  const found = findExtension(tbsDer, oid);
  if (!found) return tbsDer;
  const { tbs } = tbsLayout(tbsDer);
  const { extensions, wrapper, ext } = found;
  const extContent = concatBytes(tbsDer.subarray(extensions.contentStart, ext.start), tbsDer.subarray(ext.end, extensions.end));
  const newWrapper =
    extContent.length === 0 ? new Uint8Array(0) : encodeDerElement(0xa3, encodeDerElement(0x30, extContent));
  const tbsContent = concatBytes(
    tbsDer.subarray(tbs.contentStart, wrapper.start),
    newWrapper,
    tbsDer.subarray(wrapper.end, tbs.end),
  );
  return encodeDerElement(0x30, tbsContent);
}

/** The raw extnValue (inside the OCTET STRING) of an extension, or null. */
export function extensionValue(tbsDer: Uint8Array, oid: string): Uint8Array | null {
  const found = findExtension(tbsDer, oid);
  if (!found) return null;
  const parts = derChildren(tbsDer, found.ext);
  const value = parts[parts.length - 1];
  if (!value || value.tag !== 0x04) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'extension without OCTET STRING value');
  return tbsDer.subarray(value.contentStart, value.end);
}

/** The TLS-encoded SCT list embedded in a final certificate (extnValue is an OCTET STRING in an OCTET STRING). */
export function embeddedSctList(certDer: Uint8Array): Uint8Array | null {
  const value = extensionValue(tbsOf(certDer), SCT_LIST_OID);
  if (!value) return null;
  const inner = readDerElement(value, 0);
  if (inner.tag !== 0x04 || inner.end !== value.length) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'SCT list extension is not an OCTET STRING');
  return value.subarray(inner.contentStart, inner.end);
}

export function isPrecertificate(certDer: Uint8Array): boolean {
  return tbsHasExtension(tbsOf(certDer), PRECERT_POISON_OID);
}

/** A bare TBSCertificate (precert log entries carry nothing else) wrapped as a certificate so pkijs can read it. */
function wrapTbs(tbsDer: Uint8Array): Uint8Array {
  const { fields } = tbsLayout(tbsDer);
  const sigAlg = fields[fields[0]?.tag === 0xa0 ? 2 : 1];
  if (!sigAlg) throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, 'TBSCertificate has no signature algorithm');
  const emptyBitString = Uint8Array.of(0x03, 0x01, 0x00);
  return encodeDerElement(0x30, concatBytes(tbsDer, tbsDer.subarray(sigAlg.start, sigAlg.end), emptyBitString));
}

function parsePkijs(certDer: Uint8Array): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(new Uint8Array(certDer));
  } catch (err) {
    throw ctError(CtErrorCodes.CT_CERTIFICATE_INVALID, `certificate unreadable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function nameText(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${SHORT_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`)
    .join(', ');
}

const SHORT_NAMES: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU' };

function summarize(cert: pkijs.Certificate): CertificateSummary {
  const dnsNames: string[] = [];
  const san = cert.extensions?.find((e) => e.extnID === SAN_OID);
  if (san?.parsedValue instanceof pkijs.AltName) {
    for (const n of san.parsedValue.altNames) if (n.type === 2 && typeof n.value === 'string') dnsNames.push(n.value.toLowerCase());
  }
  const cn = cert.subject.typesAndValues.find((tv) => tv.type === CN_OID);
  return {
    subject: nameText(cert.subject),
    issuer: nameText(cert.issuer),
    serialNumber: toHex(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    dnsNames,
    commonName: cn ? String(cn.value.valueBlock.value).toLowerCase() : null,
  };
}

export function summarizeCertificate(certDer: Uint8Array): CertificateSummary {
  return summarize(parsePkijs(certDer));
}

export function summarizeTbs(tbsDer: Uint8Array): CertificateSummary {
  return summarize(parsePkijs(wrapTbs(tbsDer)));
}
