import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import { publishTxtViaChannels } from '../org/acme-channel.js';
import { runOrgCert } from '../org/cert.js';
import { openChannels } from '../org/channels/index.js';
import { rootPublicJwk, storeBinding, type OrgCertCommandResult } from '../org/cert-command.js';
import { folderPath } from '../org/sign.js';
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

export async function authorityCert(o: AuthorityCertOptions): Promise<AuthorityCertResult> {
  const config = await loadAuthorityConfig(o.dir);
  const host = parseOrganizationIdentifier(config.authority).host;
  const root = await rootPublicJwk(o.dir, config.keys.root, o.passphrase, 'keys.root');
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
  return storeBinding(o.dir, o.directoryUrl, issued, channels, async (binding) => {
    const latest = await loadAuthorityConfig(o.dir);
    const previous = latest.binding ? { ...latest.binding } : null;
    latest.binding = binding;
    await saveAuthorityConfig(o.dir, latest);
    return previous;
  });
}
