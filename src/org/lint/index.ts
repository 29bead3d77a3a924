import { readFile } from 'node:fs/promises';
import { EmblemError } from '../../core/errors.js';
import { base64urlDecode } from '../../core/encoding.js';
import { parseMaterialText } from '../../core/material/parse-text.js';
import { parseZoneFile } from '../../dns/zone-file.js';
import { settings, type OrgConfig } from '../config.js';
import { folderPath } from '../sign.js';
import type { OrgState } from '../state.js';
import { bareIp } from './bare-ip.js';
import { bindingExpiry } from './binding-expiry.js';
import { cdnAddress } from './cdn-address.js';
import { endorsementConstraints } from './endorsement-constraints.js';
import { rrsetSize } from './rrset-size.js';
import type { Finding, LintContext, LintRule } from './rule.js';
import { sharedAddress } from './shared-address.js';
import { shortPrefix } from './short-prefix.js';
import { ttlLingers } from './ttl-lingers.js';
import { wildcardOutside } from './wildcard-outside.js';

export type { Finding } from './rule.js';

export const RULES: LintRule[] = [bareIp, shortPrefix, wildcardOutside, endorsementConstraints, bindingExpiry, ttlLingers, rrsetSize, sharedAddress, cdnAddress];

async function bindingNotAfter(dir: string, config: OrgConfig): Promise<number | null> {
  if (!config.binding?.chain) return null;
  try {
    const { parsePemCertificates } = await import('../../ct/certificate.js');
    const pkijs = await import('pkijs');
    const [leaf] = parsePemCertificates(await readFile(folderPath(dir, config.binding.chain), 'utf8'));
    if (!leaf) return null;
    return Math.floor(pkijs.Certificate.fromBER(new Uint8Array(leaf)).notAfter.value.getTime() / 1000);
  } catch {
    throw new EmblemError('CONFIG_INVALID', `config.binding.chain: cannot read a certificate from ${config.binding.chain}`);
  }
}

async function endorsementClaims(dir: string, config: OrgConfig): Promise<LintContext['endorsements']> {
  const out: LintContext['endorsements'] = [];
  for (const [i, f] of (config.endorsements ?? []).entries()) {
    let text = '';
    try {
      text = await readFile(folderPath(dir, f), 'utf8');
    } catch (err) {
      // As apply would fail when signing: say so now, naming the field (exit 2, like every config error).
      throw new EmblemError('CONFIG_INVALID', `config.endorsements[${i}]: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    // Any format `emblem verify` reads: JWS lines, TXT presentation (adem-token=..., split strings), JSON.
    for (const m of parseMaterialText(text, f).material) {
      if (m.kind !== 'jws') continue;
      const parts = m.text.split('.');
      try {
        const claims = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1]!))) as Record<string, unknown>;
        if (claims.key !== undefined) out.push({ file: f, claims });
      } catch {
        // not a JWS
      }
    }
  }
  return out;
}

async function zoneAddresses(dir: string, config: OrgConfig, ihleType: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const c of config.channels) {
    if (!c.url.startsWith('zonefile:')) continue;
    try {
      const zone = parseZoneFile(await readFile(folderPath(dir, c.url.slice(9)), 'utf8'), { ihleType });
      for (const r of zone.records) {
        if (r.type !== 1 && r.type !== 28) continue;
        const ip = r.type === 1 ? [...r.rdata].join('.') : (r.rdata.toString('hex').match(/.{4}/g) ?? []).join(':').replace(/(^|:)0{1,3}/g, '$1');
        out.set(r.owner, [...(out.get(r.owner) ?? []), ip]);
      }
    } catch {
      // unreadable zones are reported by the channel itself
    }
  }
  return out;
}

/** Runs every rule; findings sorted errors first. Codes in config.lint.ignore are dropped. */
export async function lint(dir: string, config: OrgConfig, state: OrgState, now: number): Promise<Finding[]> {
  const s = settings(config);
  const ctx: LintContext = {
    config,
    state,
    host: s.host,
    lifetime: s.lifetime,
    renewBefore: s.renewBefore,
    ttl: s.ttl,
    ihleType: s.ihleType,
    now,
    bindingNotAfter: await bindingNotAfter(dir, config),
    endorsements: await endorsementClaims(dir, config),
    zoneAddresses: await zoneAddresses(dir, config, s.ihleType),
  };
  const ignore = new Set(config.lint?.ignore ?? []);
  const findings = RULES.flatMap((r) => r.check(ctx)).filter((f) => !ignore.has(f.code));
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}
