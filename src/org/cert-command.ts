import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { parsePemCertificates, summarizeCertificate } from '../ct/certificate.js';
import { readPrivateKeyFile } from '../store/key-file.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { publishTxtViaChannels } from './acme-channel.js';
import { runOrgCert, ORG_CERT_FILES, type BindingCertificate } from './cert.js';
import type { PublishingChannel } from './channels/channel.js';
import { openChannels } from './channels/index.js';
import { loadConfig, saveConfig, settings } from './config.js';
import { folderPath } from './sign.js';

/**
 * `emblem org cert` over an organisation folder: the config says which names (host, root kid per era), which
 * channels publish the DNS-01 challenges and which CT logs the chain goes to; the result is stored exactly where
 * `org set-binding` stores a certificate obtained by hand (config.binding.chain / config.binding.log), so `org apply`
 * signs the root endorsement with the new `log` entries.
 */

export interface OrgCertCommandOptions {
  dir: string;
  directoryUrl: string;
  /** PEM trusted for the ACME server's HTTPS certificate (--acme-ca); default the system roots. */
  acmeCaPem?: string;
  /** Needed only when the folder has no public root key file and the private one is encrypted. */
  passphrase?: string;
  propagationDelayMs?: number;
  /** RFC 6962 log URLs to submit to besides the usable logs of config.ctLogLists (--ct-log). */
  ctLogUrls?: string[];
}

export interface OrgCertCommandResult {
  ok: true;
  acmeDirectory: string;
  names: string[];
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  chain: string;
  log: string;
  logEntries: unknown[];
  /** Channels the challenges were published through. */
  channels: string[];
  accountUrl: string;
  /** The binding the config pointed at before (kept on disk). */
  previous: { chain?: string; log?: string } | null;
}

/**
 * The root public key a binding certificate names: the folder's public file when there is one (always, for a key in
 * a PKCS#11 token), else derived from the private file. `field` names the reference in errors (config.keys.root).
 */
export async function rootPublicJwk(dir: string, ref: { file?: string; public?: string; pkcs11?: unknown }, passphrase: string | undefined, field = 'config.keys.root'): Promise<Record<string, unknown>> {
  if (ref.public) {
    let text: string;
    try {
      text = await readFile(folderPath(dir, ref.public), 'utf8');
    } catch (err) {
      throw new EmblemError('CONFIG_INVALID', `${field}.public: cannot read ${ref.public}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const { d: _d, ...pub } = JSON.parse(text) as Record<string, unknown>;
      parsePublicJwk(pub);
      return pub;
    } catch (err) {
      throw new EmblemError('CONFIG_INVALID', `${field}.public: ${ref.public} is not a public JWK: ${(err as Error).message}`);
    }
  }
  if (ref.pkcs11) throw new EmblemError('KEY_STORE_UNSUPPORTED', `${field}: a PKCS#11 root key needs ${field}.public (the public JWK exported from the token)`);
  if (!ref.file) throw new EmblemError('CONFIG_INVALID', `${field}: needs "file" or "public"`);
  const { d: _d, ...pub } = (await readPrivateKeyFile(folderPath(dir, ref.file), passphrase)) as Record<string, unknown>;
  return pub;
}

/** A file-name stamp unique to the certificate (its serial), so a new binding never overwrites the previous one. */
function stampOf(serialNumber: string): string {
  const s = serialNumber.toLowerCase().replace(/[^0-9a-f]/g, '');
  return s.slice(-16) || 'cert';
}

/**
 * Obtains and stores the binding certificate. Order matters for "the previous binding stays intact on any failure":
 * ACME issuance and CT submission first (runOrgCert writes nothing before both succeeded), then the chain and the
 * `log` entries to new files, and last the config switch (one atomic rename) that makes `org apply` use them.
 */
export async function orgCertCommand(o: OrgCertCommandOptions): Promise<OrgCertCommandResult> {
  const config = await loadConfig(o.dir);
  const s = settings(config);
  const eras: Array<'jws' | 'cwt'> = s.era === 'both' ? ['jws', 'cwt'] : [s.era];
  const root = await rootPublicJwk(o.dir, config.keys.root, o.passphrase);
  // octoDNS is write-only (the operator runs octodns-sync later): the CA could not see a challenge written there.
  const channelConfigs = config.channels.filter((c) => !c.url.startsWith('octodns:'));
  if (channelConfigs.length === 0) {
    throw new EmblemError('DNS01_PUBLISH_FAILED', 'no channel can publish the ACME DNS-01 challenge (octoDNS channels are write-only): add an rfc2136 or zonefile channel, or obtain the certificate yourself and use org set-binding');
  }
  const channels = await openChannels(channelConfigs, { host: s.host, ihleType: s.ihleType, resolvePath: (p) => folderPath(o.dir, p) });
  const ctLogLists = (config.ctLogLists ?? []).map((l) => (/^https?:/.test(l) ? l : folderPath(o.dir, l)));
  const ctLogUrls = o.ctLogUrls ?? [];
  if (ctLogLists.length === 0 && ctLogUrls.length === 0) {
    throw new EmblemError('CT_SUBMIT_FAILED', 'no CT log to submit the binding certificate to: config.ctLogLists is empty (org init --ct-log-list URL) and no --ct-log URL was given');
  }
  const issued = await runOrgCert({
    dir: o.dir,
    directoryUrl: o.directoryUrl,
    ...(o.acmeCaPem ? { caBundlePem: o.acmeCaPem } : {}),
    host: s.host,
    rootPublicJwk: root,
    eras,
    publishTxt: publishTxtViaChannels(channels),
    ctLogLists,
    ctLogUrls,
    ...(o.propagationDelayMs ? { propagationDelayMs: o.propagationDelayMs } : {}),
  });
  return storeBinding(o.dir, o.directoryUrl, issued, channels, async (binding) => {
    // Re-read: the config may have been edited while the CA validated; only the binding pointer changes.
    const latest = await loadConfig(o.dir);
    const previous = latest.binding ? { ...latest.binding } : null;
    latest.binding = binding;
    await saveConfig(o.dir, latest);
    return previous;
  });
}

/**
 * Stores an issued binding (org or authority folder): the chain and the `log` entries to new files under binding/
 * (named after the serial; earlier ones are kept), then `point` switches the folder's config to them, last.
 */
export async function storeBinding(
  dir: string,
  directoryUrl: string,
  issued: BindingCertificate,
  channels: readonly PublishingChannel[],
  point: (binding: { chain: string; log: string }) => Promise<{ chain?: string; log?: string } | null>,
): Promise<OrgCertCommandResult> {
  const leaf = summarizeCertificate(parsePemCertificates(issued.chainPem)[0]!);
  const stamp = stampOf(leaf.serialNumber);
  const chain = `binding/chain-${stamp}.pem`;
  const log = `binding/log-${stamp}.json`;
  await mkdir(join(dir, 'binding'), { recursive: true });
  await writeFileAtomic(join(dir, chain), issued.chainPem.endsWith('\n') ? issued.chainPem : `${issued.chainPem}\n`);
  await writeFileAtomic(join(dir, log), `${JSON.stringify(issued.logEntries)}\n`);
  const previous = await point({ chain, log });
  return {
    ok: true,
    acmeDirectory: directoryUrl,
    names: issued.names,
    serialNumber: leaf.serialNumber,
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    chain,
    log,
    logEntries: issued.logEntries,
    channels: channels.filter((c) => issued.names.some((n) => n === c.zone || n.endsWith(`.${c.zone}`))).map((c) => c.id),
    accountUrl: issued.accountUrl,
    previous,
  };
}

export { ORG_CERT_FILES };
