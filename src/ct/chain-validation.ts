import { createHash, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { EmblemError } from '../core/errors.js';
import { toBase64 } from './bytes.js';
import { isPrecertificate, PRECERT_POISON_OID, subjectPublicKeyInfoOf, tbsOf, tbsWithoutExtension } from './certificate-parse.js';
import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';
import type { ListedLog } from './log-list.js';
import type { TimestampedEntry } from './merkle-tree-leaf.js';
import type { TileLeaf } from './tile-leaf.js';
import { TlsReader } from './tls-codec.js';
import type { ChainReport, LogChainSource } from './chain-report.js';

export type { ChainReport, LogChainSource } from './chain-report.js';

/**
 * Validation of the certificate chain a CT log stores with an entry (issue 9 §6). A log attests that it saw a
 * certificate, not that the certificate was issued by a CA: a binding certificate signed with some organisation's
 * own (CA:FALSE) leaf key, naming another organisation, would otherwise commit a key for that other organisation.
 * So every chain is checked like a relying party would: signatures up the chain, every issuer a CA allowed to sign
 * certificates, every issuer valid when the log accepted the entry, ending at a root the log accepts and, when a
 * trust store is configured, at a CA in it.
 *
 * Signatures are verified with node:crypto (OpenSSL: ~1.5 ms each, measured; pkijs' WebCrypto path took 10-14 ms);
 * extensions are read with pkijs. (@peculiar/x509 2.x needs a Reflect polyfill this project does not ship.)
 */

const BASIC_CONSTRAINTS_OID = '2.5.29.19';
const KEY_USAGE_OID = '2.5.29.15';
/** RFC 6962 §3.1: Extended Key Usage of a Precertificate Signing Certificate. */
const PRECERT_SIGNING_EKU = '1.3.6.1.4.1.11129.2.4.4';

/** A certificate parsed once for the checks below. */
export interface ParsedCertificate {
  der: Uint8Array;
  fingerprint: string;
  x509: X509Certificate;
  /** Short subject for messages ("CN=E7, O=Let's Encrypt"). */
  label: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA; false when the extension is absent. */
  ca: boolean;
  pathLength: number | null;
  /** Key usage keyCertSign; null when the certificate has no keyUsage extension. */
  keyCertSign: boolean | null;
}

function chainInvalid(message: string): EmblemError {
  return ctError(CtErrorCodes.CT_CHAIN_INVALID, message);
}

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function labelOf(x: X509Certificate): string {
  const parts = x.subject.split('\n');
  const cn = parts.find((p) => p.startsWith('CN='));
  const o = parts.find((p) => p.startsWith('O='));
  return [cn, o].filter(Boolean).join(', ') || parts.join(', ') || '(empty subject)';
}

/** Parses a certificate from the chain; anything unreadable is a chain failure (`what` names it in the message). */
export function parseChainCertificate(der: Uint8Array, what: string): ParsedCertificate {
  if (der.length === 0 || der.length > CtLimits.maxCertificateBytes) throw chainInvalid(`${what} is empty or larger than ${CtLimits.maxCertificateBytes} bytes`);
  let x509: X509Certificate;
  let cert: pkijs.Certificate;
  try {
    x509 = new X509Certificate(der);
    cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  } catch (err) {
    throw ctError(CtErrorCodes.CT_CHAIN_INVALID, `${what} is not a readable certificate: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  let ca = false;
  let pathLength: number | null = null;
  let keyCertSign: boolean | null = null;
  for (const ext of cert.extensions ?? []) {
    if (ext.extnID === BASIC_CONSTRAINTS_OID && ext.parsedValue instanceof pkijs.BasicConstraints) {
      ca = ext.parsedValue.cA === true;
      const len = ext.parsedValue.pathLenConstraint;
      if (typeof len === 'number') pathLength = len;
      else if (len instanceof asn1js.Integer) pathLength = len.valueBlock.valueDec;
    } else if (ext.extnID === KEY_USAGE_OID) {
      const bits = ext.parsedValue instanceof asn1js.BitString ? ext.parsedValue.valueBlock.valueHexView : new Uint8Array(0);
      // KeyUsage bit 5 (keyCertSign) is 0x04 in the first byte (bit 0 is the most significant).
      keyCertSign = bits.length > 0 && (bits[0]! & 0x04) !== 0;
    }
  }
  return {
    der,
    fingerprint: fingerprintOf(der),
    x509,
    label: labelOf(x509),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    ca,
    pathLength,
    keyCertSign,
  };
}

function spkiKey(x: X509Certificate): string {
  return `${x.subject}\0${toBase64(new Uint8Array(x.publicKey.export({ type: 'spki', format: 'der' })))}`;
}

/**
 * A set of certificates to end a chain at: the roots a log accepts (get-roots) or a trust store (a PEM bundle).
 * Membership is by SHA-256 fingerprint. The name index, used to find the issuer of a chain's top certificate (an
 * intermediate whose root is in the set, or a cross-signed root), is built with node:crypto only when first needed
 * (~1 ms a certificate; entries that do not parse are left out), and only its candidates are parsed in full.
 */
export class CertificateSet {
  private readonly byFingerprint = new Map<string, Uint8Array>();
  private bySubject: Map<string, Uint8Array[]> | null = null;
  private bySubjectAndKey: Set<string> | null = null;
  private readonly parsed = new Map<string, ParsedCertificate | null>();

  constructor(ders: Iterable<Uint8Array>) {
    for (const der of ders) this.byFingerprint.set(fingerprintOf(der), der);
  }

  get size(): number {
    return this.byFingerprint.size;
  }

  has(c: ParsedCertificate): boolean {
    return this.byFingerprint.has(c.fingerprint);
  }

  private index(): Map<string, Uint8Array[]> {
    if (!this.bySubject) {
      const bySubject = new Map<string, Uint8Array[]>();
      const bySubjectAndKey = new Set<string>();
      for (const der of this.byFingerprint.values()) {
        let x: X509Certificate;
        try {
          x = new X509Certificate(der);
          bySubjectAndKey.add(spkiKey(x));
        } catch {
          continue;
        }
        bySubject.set(x.subject, [...(bySubject.get(x.subject) ?? []), der]);
      }
      this.bySubject = bySubject;
      this.bySubjectAndKey = bySubjectAndKey;
    }
    return this.bySubject;
  }

  /** A member with the same subject and public key (the same CA, possibly in another certificate: a cross-sign). */
  hasSameCa(c: ParsedCertificate): boolean {
    this.index();
    return this.bySubjectAndKey!.has(spkiKey(c.x509));
  }

  /** Members whose subject is `c`'s issuer name (candidates; the caller verifies the signature). */
  issuersOf(c: ParsedCertificate): ParsedCertificate[] {
    const out: ParsedCertificate[] = [];
    for (const der of this.index().get(c.x509.issuer) ?? []) {
      const fp = fingerprintOf(der);
      if (!this.parsed.has(fp)) {
        try {
          this.parsed.set(fp, parseChainCertificate(der, 'certificate'));
        } catch {
          this.parsed.set(fp, null);
        }
      }
      const p = this.parsed.get(fp);
      if (p) out.push(p);
    }
    return out;
  }
}

export interface ChainToValidate {
  /** The logged certificate (x509 entry) or the precertificate (precert entry), DER. */
  leaf: Uint8Array;
  /** The chain stored with it, the leaf's issuer first, DER. */
  issuers: readonly Uint8Array[];
  /** When the log accepted the entry (MerkleTreeLeaf / TileLeaf timestamp, ms): issuers must be valid then. */
  at: number;
  /** The roots the log accepts. */
  logRoots: CertificateSet;
  /** Optional: the chain must also lead to a CA in this set. */
  trustStore?: CertificateSet | null;
}

export interface ValidatedChain {
  /** Certificates above the leaf, ending at the log's root (the root appended when the log left it out). */
  issuers: ParsedCertificate[];
  /** Subject of the root the chain ends at. */
  root: string;
  /** Subject of the trust-store CA the chain leads to, when a trust store was given. */
  trustAnchor?: string;
}

/** Is `issuer` allowed to have signed `child` at `at`? Throws CT_CHAIN_INVALID naming what is wrong. */
function checkIssuer(child: ParsedCertificate, issuer: ParsedCertificate, position: number, at: number, caCertsBelow: number, isRoot: boolean): void {
  const name = `certificate ${position} (${issuer.label})`;
  if (!child.x509.verify(issuer.x509.publicKey)) {
    throw chainInvalid(`certificate ${position - 1} (${child.label}) is not signed by ${name}`);
  }
  if (!issuer.ca) throw chainInvalid(`${name} signed certificate ${position - 1} but is not a CA certificate (basicConstraints CA:FALSE or absent): invalid CA certificate`);
  // RFC 5280 §4.2.1.3: CAs must mark keys that sign certificates. A root (trust anchor) without the extension is
  // accepted, as RFC 5280 §6.1 takes only its name and key; a keyUsage that is present must allow it everywhere.
  if (issuer.keyCertSign === false || (issuer.keyCertSign === null && !isRoot)) {
    throw chainInvalid(`${name} signed certificate ${position - 1} but its keyUsage does not include keyCertSign`);
  }
  if (issuer.pathLength !== null && caCertsBelow > issuer.pathLength) {
    throw chainInvalid(`${name} allows ${issuer.pathLength} intermediate CA certificate(s) below it (pathLenConstraint), the chain has ${caCertsBelow}`);
  }
  if (at < issuer.notBefore.getTime() || at > issuer.notAfter.getTime()) {
    throw chainInvalid(
      `${name} is not valid at the entry's timestamp ${new Date(at).toISOString()} (valid ${issuer.notBefore.toISOString()} .. ${issuer.notAfter.toISOString()})`,
    );
  }
}

/**
 * Validates a stored chain (see the file comment). Throws CT_CHAIN_INVALID with the first problem found; returns
 * the validated issuers otherwise. The leaf's own validity is not judged here: the binding check reports it at the
 * verification time (docs/ct.md, step 6).
 */
export function validateCertificateChain(input: ChainToValidate): ValidatedChain {
  if (input.issuers.length > CtLimits.maxChainLength) throw chainInvalid(`the chain has ${input.issuers.length} certificates, more than ${CtLimits.maxChainLength}`);
  const leaf = parseChainCertificate(input.leaf, 'the logged certificate');
  const path = [leaf, ...input.issuers.map((der, i) => parseChainCertificate(der, `chain certificate ${i + 1}`))];
  const top = path[path.length - 1]!;
  if (path.length === 1 || !input.logRoots.has(top)) {
    // RFC 6962 §4.6 has logs store the chain up to and including the root; accept one that left the root out.
    const root = input.logRoots.issuersOf(top).find((r) => top.x509.verify(r.x509.publicKey));
    if (!root) {
      throw chainInvalid(
        path.length === 1
          ? 'the log stored no issuer for the certificate, and no root the log accepts signed it'
          : `the chain ends at ${top.label}, which is neither a root the log accepts (get-roots) nor signed by one`,
      );
    }
    path.push(root);
  }
  // Name chaining is not compared separately: each link is proven by the issuer's key verifying the signature.
  // For the issuer at position i + 1, the CA certificates below it (for pathLenConstraint) are positions 1..i.
  for (let i = 0; i + 1 < path.length; i++) checkIssuer(path[i]!, path[i + 1]!, i + 1, input.at, i, i + 2 === path.length);
  const result: ValidatedChain = { issuers: path.slice(1), root: path[path.length - 1]!.label };
  if (input.trustStore) result.trustAnchor = trustAnchorFor(path, input.trustStore, input.at);
  return result;
}

/** The CA of the trust store the validated `path` leads to: a chain certificate in the store, or the store's issuer of the top. */
function trustAnchorFor(path: ParsedCertificate[], store: CertificateSet, at: number): string {
  for (let i = 1; i < path.length; i++) if (store.has(path[i]!)) return path[i]!.label;
  for (let i = 1; i < path.length; i++) if (store.hasSameCa(path[i]!)) return path[i]!.label;
  const top = path[path.length - 1]!;
  for (const candidate of store.issuersOf(top)) {
    try {
      checkIssuer(top, candidate, path.length, at, path.length - 1, true);
      return candidate.label;
    } catch {
      // another certificate with that name may be the one
    }
  }
  throw chainInvalid(`the chain (up to ${top.label}) does not lead to a CA in the trust store (--ca-bundle)`);
}

/**
 * A precert entry's chain starts with the precertificate the log stored beside the entry (extra_data / TileLeaf),
 * which the log does not hash: it must be the one the entry was made from, or a valid chain for some other
 * precertificate could stand in for the logged TBS.
 */
export function checkPrecertificateMatches(entry: TimestampedEntry, preCertificate: Uint8Array, issuers: readonly Uint8Array[]): void {
  let poisoned: boolean;
  let tbs: Uint8Array;
  try {
    poisoned = isPrecertificate(preCertificate);
    tbs = tbsWithoutExtension(tbsOf(preCertificate), PRECERT_POISON_OID);
  } catch (err) {
    throw ctError(CtErrorCodes.CT_CHAIN_INVALID, `the stored precertificate is unreadable: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (!poisoned) throw chainInvalid('the stored precertificate has no poison extension');
  const first = issuers[0];
  if (!first) throw chainInvalid('the stored precertificate has no issuer');
  // RFC 6962 §3.1: a Precertificate Signing Certificate signs in the CA's stead; the entry then names the CA's key
  // and carries a TBS whose issuer fields were rewritten, so only the key hash can be compared.
  let signingCert = false;
  try {
    signingCert = (new X509Certificate(first).keyUsage ?? []).includes(PRECERT_SIGNING_EKU);
  } catch {
    // unreadable: reported by the chain validation
  }
  const keyHolder = signingCert ? issuers[1] : first;
  let keyHash: Uint8Array | null = null;
  try {
    keyHash = keyHolder ? new Uint8Array(createHash('sha256').update(subjectPublicKeyInfoOf(keyHolder)).digest()) : null;
  } catch {
    keyHash = null;
  }
  if (!keyHash || !entry.issuerKeyHash || Buffer.compare(Buffer.from(keyHash), Buffer.from(entry.issuerKeyHash)) !== 0) {
    throw chainInvalid("the entry's issuer_key_hash is not the key of the stored chain's issuer");
  }
  if (!signingCert && Buffer.compare(Buffer.from(tbs), Buffer.from(entry.certificate)) !== 0) {
    throw chainInvalid('the stored precertificate is not the one the entry was made from (its TBS differs)');
  }
}

/**
 * RFC 6962 §4.6 extra_data of one get-entries entry: x509 → certificate_chain; precert → pre_certificate, then
 * precertificate_chain. Malformed data is the log's fault (CT_RESPONSE_MALFORMED), bounded as everywhere.
 */
export function parseExtraData(extraData: Uint8Array, entry: TimestampedEntry): { leaf: Uint8Array; issuers: Uint8Array[] } {
  const r = new TlsReader(extraData, 'extra_data');
  const leaf = entry.entryType === 'precert' ? r.vector(3, 1, CtLimits.maxCertificateBytes) : entry.certificate;
  const list = new TlsReader(r.vector(3, 0, (CtLimits.maxCertificateBytes + 3) * CtLimits.maxChainLength), 'certificate_chain');
  const issuers: Uint8Array[] = [];
  while (list.remaining > 0) {
    if (issuers.length >= CtLimits.maxChainLength) throw chainInvalid(`the chain has more than ${CtLimits.maxChainLength} certificates`);
    issuers.push(list.vector(3, 1, CtLimits.maxCertificateBytes));
  }
  r.end();
  return { leaf, issuers };
}

export interface LogChainValidatorOptions {
  /** DER certificates of the trust store (`--ca-bundle`); null = only the log's roots decide. */
  trustStore?: readonly Uint8Array[] | null;
  /** How long a log's get-roots answer is reused. */
  rootsTtlMs?: number;
  now?: () => number;
}

/**
 * The commitment checker's view of chain validation: caches each log's roots for a while (they change rarely and a
 * scan must not fetch them per emblem), validates a proven entry's chain and returns its report, or throws
 * CT_CHAIN_INVALID. A log that cannot be asked for its roots or issuers is CT_LOG_UNREACHABLE, never "invalid".
 */
export class LogChainValidator {
  private readonly trustStore: CertificateSet | null;
  private readonly roots = new Map<string, { value: Promise<CertificateSet>; at: number }>();
  private readonly clock: () => number;

  constructor(private readonly options: LogChainValidatorOptions = {}) {
    this.trustStore = options.trustStore ? new CertificateSet(options.trustStore) : null;
    this.clock = options.now ?? Date.now;
  }

  private logRoots(log: ListedLog, source: LogChainSource): Promise<CertificateSet> {
    const key = `${log.kind}:${log.logIdBase64}`;
    const now = this.clock();
    const hit = this.roots.get(key);
    if (hit && now - hit.at <= (this.options.rootsTtlMs ?? 60 * 60_000)) return hit.value;
    const value = source.roots().then((ders) => new CertificateSet(ders));
    this.roots.set(key, { value, at: now });
    value.catch(() => {
      if (this.roots.get(key)?.value === value) this.roots.delete(key);
    });
    return value;
  }

  private async validate(log: ListedLog, source: LogChainSource, entry: TimestampedEntry, leaf: Uint8Array, issuers: Uint8Array[], stored: number): Promise<ChainReport> {
    if (entry.entryType === 'precert') checkPrecertificateMatches(entry, leaf, issuers);
    const logRoots = await this.logRoots(log, source);
    let validated: ValidatedChain;
    try {
      validated = validateCertificateChain({ leaf, issuers, at: entry.timestamp, logRoots, trustStore: this.trustStore });
    } catch (err) {
      if (err instanceof EmblemError && err.code === CtErrorCodes.CT_CHAIN_INVALID) {
        throw ctError(CtErrorCodes.CT_CHAIN_INVALID, `${log.description}: ${err.message}`);
      }
      throw err;
    }
    return {
      length: stored,
      issuer: validated.issuers[0]!.label,
      issuerSignatureValid: true,
      valid: true,
      root: validated.root,
      ...(validated.trustAnchor ? { trustAnchor: validated.trustAnchor } : {}),
    };
  }

  /** RFC 6962: the chain is in the get-entries extra_data. */
  async rfc6962(log: ListedLog, source: LogChainSource, entry: TimestampedEntry, extraData: Uint8Array): Promise<ChainReport> {
    const { leaf, issuers } = parseExtraData(extraData, entry);
    return this.validate(log, source, entry, leaf, issuers, issuers.length);
  }

  /** static-ct: the data tile names the chain by fingerprints; the certificates are at `<monitoring>/issuer/<hex>`. */
  async tiled(log: ListedLog, source: LogChainSource, tile: TileLeaf): Promise<ChainReport> {
    if (tile.chainFingerprints.length > CtLimits.maxChainLength) {
      throw ctError(CtErrorCodes.CT_CHAIN_INVALID, `${log.description}: the chain has more than ${CtLimits.maxChainLength} certificates`);
    }
    const fetchIssuer = source.issuer;
    if (!fetchIssuer) throw new Error('a static-ct chain source needs an issuer fetcher');
    const issuers = await Promise.all(tile.chainFingerprints.map((fp) => fetchIssuer(fp)));
    const leaf = tile.entry.entryType === 'precert' ? tile.preCertificate : tile.entry.certificate;
    if (!leaf) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${log.description}: precert entry without pre_certificate`);
    return this.validate(log, source, tile.entry, leaf, issuers, tile.chainFingerprints.length);
  }
}
