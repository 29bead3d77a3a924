import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { signToken, type SigningKey } from '../core/tokens/sign.js';
import type { LogPointer } from '../core/verify/commitment.js';
import { emblemRecords, type PublishableItem } from '../dns/emblem-records.js';
import { parsePublishableText } from '../dns/material-files.js';
import { parseLogOption } from '../cli/log-option.js';
import type { OrgConfig } from './config.js';
import { ownerName } from './assets.js';
import type { SetState } from './state.js';
import { NO_ENDORSEMENTS, toJson } from './state.js';

export function folderPath(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

/** The binding certificate's `log` entries (set by `org cert` / `org set-binding`), or null when none yet. */
export async function bindingLog(dir: string, config: OrgConfig): Promise<LogPointer[] | null> {
  if (!config.binding?.log) return null;
  let text: string;
  try {
    text = await readFile(folderPath(dir, config.binding.log), 'utf8');
  } catch (err) {
    throw new EmblemError('CONFIG_INVALID', `config.binding.log: cannot read ${config.binding.log}: ${(err as NodeJS.ErrnoException).code ?? ''}`);
  }
  try {
    return parseLogOption(text);
  } catch (err) {
    throw new EmblemError('CONFIG_INVALID', `config.binding.log: ${(err as Error).message}`);
  }
}

/**
 * Refuses to sign with a root key the binding certificate does not name. A certificate that names kids
 * (`<kid>.adem-configuration.<host>`, as `org cert` requests) must name this root key's kid: after a root-key
 * rotation the old certificate would commit the wrong key, and every new set would fail verification while the
 * old, valid ones were retired. A certificate without kid names (prototype style) is not checked here.
 */
export async function assertBindingNamesRoot(dir: string, config: OrgConfig, root: SigningKey, host: string): Promise<void> {
  if (!config.binding?.chain) return;
  const { parsePemCertificates, summarizeCertificate } = await import('../ct/certificate.js');
  let names: string[];
  try {
    const leaf = parsePemCertificates(await readFile(folderPath(dir, config.binding.chain), 'utf8'))[0];
    names = leaf ? summarizeCertificate(leaf).dnsNames : [];
  } catch (err) {
    throw new EmblemError('CONFIG_INVALID', `config.binding.chain: cannot read ${config.binding.chain}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const suffix = `.adem-configuration.${host}`;
  const kidNames = names.filter((n) => n.endsWith(suffix));
  if (kidNames.length === 0) return;
  const mine = [root.publicKey.jwsKid, root.publicKey.coseKidText].map((k) => `${k}${suffix}`.toLowerCase());
  if (!kidNames.some((n) => mine.includes(n))) {
    throw new EmblemError(
      'BINDING_STALE',
      `the binding certificate (${config.binding.chain}) names ${kidNames.join(', ')}, not the current root key ${root.publicKey.jwsKid} (rotated?): run emblem org cert (or org set-binding) for the new key; nothing was signed and the published sets stay as they are`,
    );
  }
}

export async function receivedEndorsements(dir: string, config: OrgConfig): Promise<PublishableItem[]> {
  const out: PublishableItem[] = [];
  for (const f of config.endorsements ?? []) {
    const path = folderPath(dir, f);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      throw new EmblemError('CONFIG_INVALID', `config.endorsements: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? ''}`);
    }
    out.push(...parsePublishableText(data, path));
  }
  return out;
}

/**
 * A short digest of the received endorsements' content, recorded with each signed set: when an endorsement is
 * imported, replaced or removed, the sets published with the old list are re-signed (the next apply publishes the
 * new endorsement at once, not at the next renewal).
 */
export function endorsementsDigest(items: readonly PublishableItem[]): string {
  if (items.length === 0) return NO_ENDORSEMENTS;
  const h = createHash('sha256');
  for (const { material: m } of items) {
    const body = m.kind === 'jws' ? m.text : m.kind === 'cwt' || m.kind === 'cose-key' ? Buffer.from(m.bytes).toString('hex') : m.kind === 'jwk' ? JSON.stringify(m.jwk) : m.pem;
    h.update(`${m.kind}:${body}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

export interface SignContext {
  config: OrgConfig;
  era: 'jws' | 'cwt' | 'both';
  lifetime: number;
  ttl: number;
  ihleType: number;
  root: SigningKey;
  emblem: SigningKey;
  log: LogPointer[] | null;
  received: PublishableItem[];
}

/**
 * Signs token sets for `assets` at `now`: one root endorsement of the emblem key per era (shared by the batch,
 * carrying the binding certificate's `log` entries) and one emblem per asset; returns each asset's records under
 * the DNS-01 identifier `id` (so old and new JWS sets coexist during a renewal).
 */
export async function signSets(ctx: SignContext, assets: string[], now: number, id: string): Promise<Map<string, SetState>> {
  const eras: Array<'jws' | 'cwt'> = ctx.era === 'both' ? ['jws', 'cwt'] : [ctx.era];
  const iss = ctx.config.organization;
  const times = { iat: now, nbf: now, exp: now + ctx.lifetime };
  const shared: PublishableItem[] = [];
  for (const era of eras) {
    const endorsement = await signToken(era, 'endorsement', { ...times, iss, sub: iss, endorse: ctx.emblem.publicKey, end: false, ...(ctx.log ? { log: ctx.log } : {}) }, ctx.root);
    shared.push({ material: era === 'jws' ? { kind: 'jws', text: endorsement.text } : { kind: 'cwt', bytes: endorsement.bytes! }, identifier: id });
  }
  shared.push({ material: { kind: 'jwk', jwk: ctx.emblem.publicKey.jwk }, identifier: id });
  shared.push({ material: { kind: 'jwk', jwk: ctx.root.publicKey.jwk }, identifier: id });
  for (const r of ctx.received) shared.push({ material: r.material, identifier: id });
  const out = new Map<string, SetState>();
  for (const asset of assets) {
    const owner = ownerName(asset);
    if (owner === null) continue;
    const items: PublishableItem[] = [...shared];
    for (const era of eras) {
      const emblem = await signToken(era, 'emblem', {
        ...times,
        iss,
        assets: [asset],
        ...(ctx.config.purposes ? { purposes: ctx.config.purposes } : {}),
        ...(era === 'jws' && ctx.config.distribution ? { distribution: ctx.config.distribution } : {}),
      }, ctx.emblem);
      items.push({ material: era === 'jws' ? { kind: 'jws', text: emblem.text } : { kind: 'cwt', bytes: emblem.bytes! }, identifier: id });
    }
    const { records } = emblemRecords(items, owner, { era: ctx.era, ttl: ctx.ttl, ihleType: ctx.ihleType });
    out.set(asset, {
      identifier: id,
      signedAt: now,
      validFrom: times.nbf,
      validUntil: times.exp,
      emblemKid: ctx.emblem.publicKey.jwsKid,
      rootKid: ctx.root.publicKey.jwsKid,
      endorsements: endorsementsDigest(ctx.received),
      records: records.map((r) => toJson({ name: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata })),
    });
  }
  return out;
}
