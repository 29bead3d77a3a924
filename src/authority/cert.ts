import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { parsePemCertificates, summarizeCertificate } from '../ct/certificate.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import { publishTxtViaChannels } from '../org/acme-channel.js';
import { runOrgCert } from '../org/cert.js';
import { openChannels } from '../org/channels/index.js';
import type { OrgCertCommandResult } from '../org/cert-command.js';
import { folderPath } from '../org/sign.js';
import { readPrivateKeyFile } from '../store/key-file.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { loadAuthorityConfig, saveAuthorityConfig } from './config.js';

/**
 * `emblem authority cert`: the authority root key's binding certificate through the same ACME (DNS-01) and CT flow
 * as `emblem org cert` (runOrgCert), the challenges published through the authority folder's channels
 * (authority init --publish). Stored under binding/ with new file names; config.binding switches last, in one
 * atomic write, so a failure leaves the previous binding in use.
 */

export interface AuthorityCertOptions {
  dir: string;
  directoryUrl: string;
  acmeCaPem?: string;
  passphrase?: string;
  propagationDelayMs?: number;
  ctLogUrls?: string[];
}

export type AuthorityCertResult = OrgCertCommandResult;

async function rootPublicJwk(dir: string, ref: { file?: string; public?: string; pkcs11?: unknown }, passphrase: string | undefined): Promise<Record<string, unknown>> {
  if (ref.public) {
    const text = await readFile(folderPath(dir, ref.public), 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new EmblemError('CONFIG_INVALID', `keys.root.public: cannot read ${ref.public}: ${err.code ?? err.message}`);
    });
    try {
      const { d: _d, ...pub } = JSON.parse(text) as Record<string, unknown>;
      parsePublicJwk(pub);
      return pub;
    } catch (err) {
      throw new EmblemError('CONFIG_INVALID', `keys.root.public: ${ref.public} is not a public JWK: ${(err as Error).message}`);
    }
  }
  if (!ref.file) throw new EmblemError('CONFIG_INVALID', 'keys.root: a PKCS#11 root key needs keys.root.public');
  const { d: _d, ...pub } = (await readPrivateKeyFile(folderPath(dir, ref.file), passphrase)) as Record<string, unknown>;
  return pub;
}

function stampOf(serialNumber: string): string {
  return serialNumber.toLowerCase().replace(/[^0-9a-f]/g, '').slice(-16) || 'cert';
}

export async function authorityCert(o: AuthorityCertOptions): Promise<AuthorityCertResult> {
  const config = await loadAuthorityConfig(o.dir);
  const host = parseOrganizationIdentifier(config.authority).host;
  const root = await rootPublicJwk(o.dir, config.keys.root, o.passphrase);
  const channelConfigs = (config.channels ?? []).filter((c) => !c.url.startsWith('octodns:'));
  if (channelConfigs.length === 0) {
    throw new EmblemError('DNS01_PUBLISH_FAILED', `${o.dir} has no channel that can publish the ACME DNS-01 challenge: create the folder with authority init --publish rfc2136://HOST:PORT/ZONE --tsig-key FILE (or zonefile:PATH), or obtain the certificate yourself and use authority set-binding`);
  }
  const channels = await openChannels(channelConfigs, { host, ihleType: DEFAULT_IHLE_TYPE, resolvePath: (p) => folderPath(o.dir, p) });
  const ctLogLists = (config.ctLogLists ?? []).map((l) => (/^https?:/.test(l) ? l : folderPath(o.dir, l)));
  const ctLogUrls = o.ctLogUrls ?? [];
  if (ctLogLists.length === 0 && ctLogUrls.length === 0) {
    throw new EmblemError('CT_SUBMIT_FAILED', 'no CT log to submit the binding certificate to: the folder has no ctLogLists (authority init --ct-log-list URL) and no --ct-log URL was given');
  }
  const issued = await runOrgCert({
    dir: o.dir,
    directoryUrl: o.directoryUrl,
    ...(o.acmeCaPem ? { caBundlePem: o.acmeCaPem } : {}),
    host,
    rootPublicJwk: root,
    eras: ['jws', 'cwt'],
    publishTxt: publishTxtViaChannels(channels),
    ctLogLists,
    ctLogUrls,
    ...(o.propagationDelayMs ? { propagationDelayMs: o.propagationDelayMs } : {}),
  });
  const leaf = summarizeCertificate(parsePemCertificates(issued.chainPem)[0]!);
  const stamp = stampOf(leaf.serialNumber);
  const chain = `binding/chain-${stamp}.pem`;
  const log = `binding/log-${stamp}.json`;
  await mkdir(join(o.dir, 'binding'), { recursive: true });
  await writeFileAtomic(join(o.dir, chain), issued.chainPem.endsWith('\n') ? issued.chainPem : `${issued.chainPem}\n`);
  await writeFileAtomic(join(o.dir, log), `${JSON.stringify(issued.logEntries)}\n`);
  const latest = await loadAuthorityConfig(o.dir);
  const previous = latest.binding ? { ...latest.binding } : null;
  latest.binding = { chain, log };
  await saveAuthorityConfig(o.dir, latest);
  return {
    ok: true,
    acmeDirectory: o.directoryUrl,
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
