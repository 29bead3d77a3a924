import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import type { ChannelConfig, KeyRef } from '../org/config.js';
import { writeFileAtomic } from '../store/atomic-write.js';

export const AUTHORITY_CONFIG_FILE = 'emblem-authority.json';

/** The authority's folder: who it is, where its root key lives, its binding certificate, how it reviews. */
export interface AuthorityConfig {
  version: 1;
  authority: string;
  keys: { root: KeyRef };
  /** The root key's binding certificate (authority set-binding): its `log` entries go into every endorsement. */
  binding?: { chain: string; log: string };
  /** Publishing channels of the authority's own zone (ACME DNS-01 for authority cert; authority publish). */
  channels?: ChannelConfig[];
  ctLogLists?: string[];
  verify?: { caBundle?: string; skipCommitmentCheck?: boolean };
  /** Default endorsement lifetime (grant --lifetime), e.g. 365d. */
  lifetime?: string;
  /** The authority's revocation policy: a revoked endorsement must stop being valid within this (e.g. 30d); lint checks lifetime against it. */
  revocationWithin?: string;
  /** Oldest request review/grant accept, e.g. 30d. */
  maxRequestAge?: string;
  /** TTL of the published key records (seconds, default 300) and the IHLE type code (default 65400). */
  ttl?: number;
  ihleType?: number;
}

export async function loadAuthorityConfig(dir: string): Promise<AuthorityConfig> {
  const path = join(dir, AUTHORITY_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EmblemError('CONFIG_MISSING', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? ''} (run emblem authority init first)`);
  }
  let c: AuthorityConfig;
  try {
    c = JSON.parse(text) as AuthorityConfig;
  } catch {
    throw new EmblemError('CONFIG_INVALID', `${path} is not JSON`);
  }
  if (c.version !== 1) throw new EmblemError('CONFIG_INVALID', `${path}: version must be 1`);
  try {
    parseOrganizationIdentifier(c.authority);
  } catch (err) {
    throw new EmblemError('CONFIG_INVALID', `${path}: authority: ${(err as Error).message}`);
  }
  if (!c.keys?.root || (!c.keys.root.file && !c.keys.root.pkcs11)) throw new EmblemError('CONFIG_INVALID', `${path}: keys.root needs "file" or "pkcs11"`);
  return c;
}

export async function saveAuthorityConfig(dir: string, config: AuthorityConfig): Promise<void> {
  await writeFileAtomic(join(dir, AUTHORITY_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}
