import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { toBase64 } from '../ct/bytes.js';
import { parsePemCertificates } from '../ct/certificate.js';
import type { HttpClient } from '../ct/http.js';
import { leafHashOf, x509EntryFor, type LogEntryJson } from '../ct/leaf-hash.js';
import { loadLogLists } from '../ct/log-list-source.js';
import { isUsableState } from '../ct/log-list.js';
import { leafIndexFromExtensions } from '../ct/sct.js';
import { submitChain } from '../ct/submission.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { acmeIssue, AcmeErrorCodes, type PublishTxt } from './acme.js';

export { AcmeErrorCodes, type PublishTxt } from './acme.js';

/**
 * The binding certificate of an organisation's root key (issue 10 `emblem org cert`): the names `emblem ct binding`
 * requires, issued by an ACME CA through DNS-01, submitted to CT logs (RFC 6962 add-chain), and the `log` entries
 * the root endorsement carries.
 */

/**
 * SANs for the root key under `host`: `<host>` (GO-JWT, adem-js), `adem-configuration.<host>` (spec, GO-CWT) and
 * `<kid>.adem-configuration.<host>` for the kid of every era published (JWK thumbprint for JWS, COSE thumbprint
 * for CWT), so one certificate commits the key under both namings (SPEC-NOTES §5.5, §5.7).
 */
export function bindingNamesForKey(host: string, rootPublicJwk: JsonWebKey | Record<string, unknown>, eras: ReadonlyArray<'jws' | 'cwt'> = ['jws', 'cwt']): string[] {
  const h = host.toLowerCase().replace(/\.$/, '');
  const { d: _private, kid: _kid, ...pub } = rootPublicJwk as Record<string, unknown>;
  const key = parsePublicJwk(pub);
  const kids = [...new Set(eras.map((era) => (era === 'jws' ? key.jwsKid : key.coseKidText)))];
  return [h, `adem-configuration.${h}`, ...kids.map((kid) => `${kid}.adem-configuration.${h}`)];
}

/** Submission URLs (RFC 6962 API bases) of the usable logs in v3 log lists. Tiled-only logs take no add-chain here. */
export async function ctSubmissionUrls(logLists: readonly string[], options: { cacheDir?: string | null; http?: HttpClient } = {}): Promise<string[]> {
  if (logLists.length === 0) return [];
  const dir = await loadLogLists(logLists, { cacheDir: options.cacheDir ?? null, ...(options.http ? { http: options.http } : {}) });
  return dir.logs.filter((l) => l.kind === 'rfc6962' && l.url && isUsableState(l.state)).map((l) => l.url!);
}

/**
 * add-chain to each log, and the `log` entries for the answers (as `emblem ct submit` prints them): an RFC 6962
 * leaf hash of the x509 entry, plus the static-ct index when the log's SCT carries one. Every log must accept:
 * a root endorsement whose entries do not all verify fails the `all` policy, so a partial set is not returned.
 */
export async function submitBindingChain(chain: Uint8Array[], logUrls: readonly string[], options: { http?: HttpClient } = {}): Promise<LogEntryJson[]> {
  if (logUrls.length === 0) throw new EmblemError(AcmeErrorCodes.CT_SUBMIT_FAILED, 'no CT log to submit the binding certificate to (configure a log list)');
  const entries: LogEntryJson[] = [];
  for (const url of logUrls) {
    let sct;
    try {
      sct = await submitChain(url, chain, options.http ? { http: options.http } : {});
    } catch (err) {
      throw new EmblemError(AcmeErrorCodes.CT_SUBMIT_FAILED, `CT log ${url} refused the binding certificate: ${(err as Error).message}`, { cause: err });
    }
    const id = toBase64(sct.logId);
    entries.push({ ver: 'v1', id, hash: toBase64(leafHashOf(x509EntryFor(chain[0]!, sct.timestamp, sct.extensions))) });
    const index = leafIndexFromExtensions(sct.extensions);
    if (index !== null) entries.push({ ver: 'static', id, index });
  }
  return entries;
}

export interface ObtainBindingOptions {
  directoryUrl: string;
  caBundlePem?: string;
  accountKey?: string;
  /** Host of the organisation identifier (`hospital.example` for `https://hospital.example`). */
  host: string;
  /** The root public key (JWK); its kids name the certificate. */
  rootPublicJwk: JsonWebKey | Record<string, unknown>;
  /** Which eras' kids to name. Default both. */
  eras?: ReadonlyArray<'jws' | 'cwt'>;
  publishTxt: PublishTxt;
  /** RFC 6962 log base URLs to add-chain to. */
  ctLogUrls?: readonly string[];
  /** v3 log lists whose usable RFC 6962 logs are submitted to (in addition to ctLogUrls). */
  ctLogLists?: readonly string[];
  cacheDir?: string | null;
  propagationDelayMs?: number;
  http?: HttpClient;
}

export interface BindingCertificate {
  /** Leaf first. */
  chainPem: string;
  /** The root endorsement's `log` claim. */
  logEntries: LogEntryJson[];
  names: string[];
  accountKeyPem: string;
  accountUrl: string;
}

/** ACME issuance, then CT submission. Throws ACME_UNREACHABLE, ACME_ORDER_FAILED, DNS01_PUBLISH_FAILED or CT_SUBMIT_FAILED. */
export async function obtainBindingCertificate(o: ObtainBindingOptions): Promise<BindingCertificate> {
  const names = bindingNamesForKey(o.host, o.rootPublicJwk, o.eras);
  // Resolve the logs first: a broken log list should fail before a certificate is issued for nothing.
  let logUrls: string[];
  try {
    logUrls = [...(o.ctLogUrls ?? []), ...(await ctSubmissionUrls(o.ctLogLists ?? [], { cacheDir: o.cacheDir ?? null, ...(o.http ? { http: o.http } : {}) }))];
  } catch (err) {
    throw new EmblemError(AcmeErrorCodes.CT_SUBMIT_FAILED, `CT log list unusable: ${(err as Error).message}`, { cause: err });
  }
  if (logUrls.length === 0) throw new EmblemError(AcmeErrorCodes.CT_SUBMIT_FAILED, 'no RFC 6962 CT log configured to submit the binding certificate to');
  const issued = await acmeIssue({
    directoryUrl: o.directoryUrl,
    names,
    publishTxt: o.publishTxt,
    ...(o.caBundlePem ? { caBundlePem: o.caBundlePem } : {}),
    ...(o.accountKey ? { accountKey: o.accountKey } : {}),
    ...(o.propagationDelayMs ? { propagationDelayMs: o.propagationDelayMs } : {}),
  });
  const chain = parsePemCertificates(issued.chainPem);
  if (chain.length === 0) throw new EmblemError(AcmeErrorCodes.ACME_ORDER_FAILED, `ACME server ${o.directoryUrl} returned no certificate`);
  const logEntries = await submitBindingChain(chain, logUrls, o.http ? { http: o.http } : {});
  return { chainPem: issued.chainPem, logEntries, names, accountKeyPem: issued.accountKeyPem, accountUrl: issued.accountUrl };
}

/** Files `runOrgCert` keeps in the organisation folder. */
export const ORG_CERT_FILES = {
  /** ACME account key (PEM, 0600): reused on renewal so the CA sees one account. */
  accountKey: 'acme-account.key',
  /** `{ chainPem, logEntries, names, accountUrl }`, written atomically in one file so chain and entries never disagree. */
  binding: 'binding.json',
} as const;

export interface RunOrgCertOptions extends Omit<ObtainBindingOptions, 'accountKey'> {
  /** The organisation folder. */
  dir: string;
}

/**
 * `emblem org cert`: obtains the binding certificate with the folder's ACME account (created on first use) and
 * stores it. Nothing is written before the certificate is issued and logged; the previous binding.json stays
 * intact on any failure.
 */
export async function runOrgCert(o: RunOrgCertOptions): Promise<BindingCertificate> {
  const accountPath = join(o.dir, ORG_CERT_FILES.accountKey);
  let accountKey: string | undefined;
  try {
    accountKey = await readFile(accountPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { dir, ...rest } = o;
  const result = await obtainBindingCertificate({ ...rest, ...(accountKey ? { accountKey } : {}) });
  await mkdir(dir, { recursive: true });
  if (!accountKey) await writeFileAtomic(accountPath, result.accountKeyPem, 0o600);
  await writeFileAtomic(
    join(dir, ORG_CERT_FILES.binding),
    `${JSON.stringify({ chainPem: result.chainPem, logEntries: result.logEntries, names: result.names, accountUrl: result.accountUrl }, null, 2)}\n`,
  );
  return result;
}
