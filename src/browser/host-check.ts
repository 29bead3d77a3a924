import { reportError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { parseCwtToken } from '../core/tokens/cwt.js';
import { parseJwsToken } from '../core/tokens/jws.js';
import type { PublicKey } from '../core/tokens/keys.js';
import type { Token } from '../core/tokens/token.js';
import type { CommitmentChecker } from '../core/verify/commitment.js';
import { verifyMaterial } from '../core/verify/index.js';
import { classifyEmblemRecords, type CheckReport } from '../dns/check-classification.js';
import type { DiscoveryEra } from '../dns/discovery-report.js';
import { normalizeUserName, toFqdn } from '../dns/domain-name-text.js';
import { decodeEmblemRecords } from '../dns/token-sets.js';
import { discoverViaDoh, lookupAddressesViaDoh, type DohFetch } from './doh-discovery.js';

export interface HostCheckOptions {
  dohUrl: string;
  era: DiscoveryEra;
  ihleType: number;
  timeoutMs: number;
  trustedKeys: PublicKey[];
  now: Date;
  commitments: CommitmentChecker;
  fetch: DohFetch;
}

/** One token of the best set, for the popup's drawing of the chain (what was found; the report says what verified). */
export interface ChainToken {
  kind: 'emblem' | 'endorsement';
  issuer: string | null;
  subject: string | null;
  /** The kid of the key that signed the token. */
  signerKid: string | null;
  /** Endorsements: the kid of the endorsed key. */
  endorsedKid: string | null;
  end: boolean;
  notBefore: string;
  expires: string;
  assets: string[] | null;
  /** Log pointers the endorsement carries (root-key commitments in CT). */
  logs: number;
}

export interface HostCheck extends CheckReport {
  /** Tokens of the best set, ordered from the emblem up its chain, then the rest. */
  chain: ChainToken[];
}

function tokenOf(m: Material): Token | null {
  try {
    if (m.kind === 'jws') return parseJwsToken(m.text);
    if (m.kind === 'cwt') return parseCwtToken(m.bytes);
  } catch {
    // a malformed token is reported by the verification report; the drawing skips it
  }
  return null;
}

const iso = (s: number) => new Date(s * 1000).toISOString();

/** Orders the set's tokens as a chain: the emblem, then whatever endorses the key that signed the previous link. */
export function chainOf(material: Material[]): ChainToken[] {
  const tokens = material.map(tokenOf).filter((t): t is Token => t !== null);
  const view = (t: Token): ChainToken => ({
    kind: t.kind, issuer: t.claims.iss, subject: t.claims.sub,
    signerKid: t.headerKid ?? (t.embeddedKey ? (t.era === 'jws' ? t.embeddedKey.jwsKid : t.embeddedKey.coseKidText) : null),
    endorsedKid: t.claims.key, end: t.claims.end, notBefore: iso(t.claims.nbf), expires: iso(t.claims.exp),
    assets: t.claims.assets, logs: t.claims.log?.length ?? 0,
  });
  const rest = tokens.map(view);
  const ordered: ChainToken[] = [];
  const take = (pick: (c: ChainToken) => boolean): ChainToken | undefined => {
    const i = rest.findIndex(pick);
    return i < 0 ? undefined : rest.splice(i, 1)[0];
  };
  let current = take((c) => c.kind === 'emblem');
  // Bounded by the number of tokens: each step removes one.
  while (current) {
    ordered.push(current);
    const signer = current.signerKid;
    current = signer === null ? undefined : take((c) => c.kind === 'endorsement' && c.endorsedKid === signer);
  }
  return [...ordered, ...rest];
}

/**
 * `emblem check` for the browser: discover the host's emblem records through the configured DoH resolver, group
 * them into token sets, verify each with the core and classify them with the CLI's own code. Never throws.
 */
export async function checkHost(host: string, options: HostCheckOptions): Promise<HostCheck> {
  let name;
  try {
    name = normalizeUserName(host);
  } catch (err) {
    return { target: host, status: 'error', level: null, sets: [], discovery: null, errors: [reportError(err)], chain: [] };
  }
  const target = toFqdn(name).replace(/\.$/, '') || '.';
  const dns = { url: options.dohUrl, era: options.era, ihleType: options.ihleType, timeoutMs: options.timeoutMs, fetch: options.fetch };
  let discovered;
  try {
    discovered = await discoverViaDoh(name, dns);
  } catch (err) {
    return { target, status: 'error', level: null, sets: [], discovery: null, errors: [reportError(err)], chain: [] };
  }
  const { report: discovery } = discovered;
  if (discovery.rcode === 'NXDOMAIN') return { target, status: 'nxdomain', level: null, sets: [], discovery, errors: [], chain: [] };
  const decoded = decodeEmblemRecords(discovered.txtValues, discovered.ihleRdatas, `dns:${target}`);
  discovery.records.ademTxt = discovered.txtValues.length - decoded.otherTxt;
  const report = await classifyEmblemRecords(
    target,
    decoded,
    (material) => verifyMaterial(material, { now: options.now, trustedKeys: options.trustedKeys, commitments: options.commitments }),
    () => lookupAddressesViaDoh(name, dns, discovery),
    discovery,
  );
  const best = report.sets[0];
  // Sets are unique by (era, identifier): the JWS sets by DNS-01 identifier, all IHLE records one CWT set.
  const set = best ? decoded.sets.find((s) => s.identifier === best.identifier && (best.era === null || s.era === best.era)) : undefined;
  return { ...report, chain: set ? chainOf(set.material) : [] };
}
