import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { Limits } from '../core/limits.js';
import { durationSeconds } from '../org/config.js';
import { folderPath } from '../org/sign.js';
import { readKeyFileText } from '../store/key-file.js';
import { loadAuthorityConfig, type AuthorityConfig } from './config.js';
import { Registry, type EndorsementRecord } from './registry.js';

export interface AuthorityFinding {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  fix: string;
}

/** What the rules look at: the config and facts read from the folder (no I/O in the rules themselves). */
export interface AuthorityLintInput {
  config: AuthorityConfig;
  now: number;
  /** Active endorsements in the registry (empty when there is none). */
  active: EndorsementRecord[];
  /** How the root key is kept: an unencrypted JWK file, a passphrase-encrypted JWE file, or a PKCS#11 token. */
  rootKey: 'jwk' | 'jwe' | 'pkcs11' | 'unreadable';
}

const DEFAULT_LIFETIME = '365d';
const days = (s: number) => `${+(s / 86_400).toFixed(2)} days`;

function duration(text: string | undefined, field: string): number | { error: string } | undefined {
  if (text === undefined) return undefined;
  try {
    return durationSeconds(text, field);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Checks an authority's folder for settings that make it unsafe or unable to work. In ADEM there is no revocation
 * list: a revoked endorsement stays valid until it expires, so the endorsement lifetime IS the revocation delay, and
 * an authority that promises to revoke within N days must not sign endorsements that live longer than N days.
 */
export function lintAuthorityConfig(input: AuthorityLintInput): AuthorityFinding[] {
  const { config, now } = input;
  const out: AuthorityFinding[] = [];
  const lifetimeText = config.lifetime ?? DEFAULT_LIFETIME;
  const lifetime = duration(lifetimeText, 'lifetime');
  const policy = duration(config.revocationWithin, 'revocationWithin');
  if (typeof lifetime === 'object') {
    out.push({ code: 'LIFETIME_INVALID', severity: 'error', message: lifetime.error, fix: 'set "lifetime" in emblem-authority.json to a duration such as 30d' });
  } else if (lifetime !== undefined && lifetime > Limits.maxTokenLifetimeSeconds) {
    out.push({ code: 'LIFETIME_OVER_MAX', severity: 'error', message: `lifetime ${lifetimeText} (${days(lifetime)}) exceeds the longest validity emblem signs (${days(Limits.maxTokenLifetimeSeconds)}): grant and renew refuse it`, fix: `set "lifetime" to at most ${Limits.maxTokenLifetimeSeconds / 86_400}d (and, for revocation, much less)` });
  }
  if (typeof policy === 'object') {
    out.push({ code: 'REVOCATION_POLICY_INVALID', severity: 'error', message: policy.error, fix: 'set "revocationWithin" to a duration such as 30d' });
  } else if (policy === undefined) {
    if (typeof lifetime === 'number') {
      out.push({ code: 'REVOCATION_POLICY_MISSING', severity: 'warning', message: `no revocation policy ("revocationWithin"): revoking an organisation takes up to the endorsement lifetime, ${lifetimeText} (${days(lifetime)}), because published copies stay valid until they expire`, fix: 'decide how fast a revocation must take effect, set "revocationWithin" (e.g. 30d) and a "lifetime" no longer than it' });
    }
  } else if (typeof lifetime === 'number' && lifetime > policy) {
    out.push({ code: 'REVOCATION_SLOWER_THAN_POLICY', severity: 'error', message: `endorsements live ${lifetimeText} (${days(lifetime)}) but the policy is to revoke within ${config.revocationWithin} (${days(policy)}): ADEM has no revocation list, so a revoked organisation keeps a valid endorsement for up to ${days(lifetime)}`, fix: `set "lifetime" to at most ${config.revocationWithin} and run emblem authority renew --all-expiring more often (e.g. daily, with a window of a third of the lifetime)` });
  }
  if (typeof policy === 'number') {
    const outliving = input.active.filter((r) => r.expires > now + policy);
    if (outliving.length > 0) {
      const last = outliving.reduce((a, b) => (b.expires > a.expires ? b : a));
      out.push({ code: 'ISSUED_OUTLIVE_POLICY', severity: 'warning', message: `${outliving.length} active endorsement(s) in the registry expire later than the revocation policy allows (${config.revocationWithin} from now); the last, ${last.organization} (${last.id}), on ${new Date(last.expires * 1000).toISOString()}`, fix: 'accept that these cannot be revoked in time, or grant them again with a shorter --lifetime and ask the organisations to replace the published copies' });
    }
  }
  if (!config.ctLogLists?.length) {
    out.push({ code: 'CT_LOG_LIST_MISSING', severity: 'warning', message: 'no CT log list configured ("ctLogLists"): review and grant cannot check an organisation\'s root-key commitment unless each run passes --log-list', fix: 'add the log list(s) validators use, e.g. "ctLogLists": ["https://www.gstatic.com/ct/log_list/v3/log_list.json"]' });
  }
  if (config.verify?.skipCommitmentCheck) {
    out.push({ code: 'COMMITMENT_CHECK_DISABLED', severity: 'warning', message: '"verify.skipCommitmentCheck" is set: requests are reviewed without checking that the organisation\'s root key is committed in CT', fix: 'remove verify.skipCommitmentCheck (it is for offline tests)' });
  }
  if (!config.binding?.log) {
    out.push({ code: 'BINDING_MISSING', severity: 'error', message: 'the authority\'s root key has no binding certificate: grant and renew refuse to sign, since validators accept an endorsement only when the authority\'s key is committed in CT', fix: 'get a binding certificate for the root key, then emblem authority set-binding --dir D --chain CHAIN.pem --log LOG.json' });
  }
  if (input.rootKey === 'jwk') {
    out.push({ code: 'ROOT_KEY_UNENCRYPTED', severity: 'warning', message: `the root key ${config.keys.root.file} is stored unencrypted`, fix: 'keep it in a PKCS#11 token (authority init --pkcs11-…) or encrypted with a passphrase (EMBLEM_PASSPHRASE at init)' });
  } else if (input.rootKey === 'unreadable') {
    out.push({ code: 'ROOT_KEY_UNREADABLE', severity: 'error', message: `cannot read the root key file ${config.keys.root.file}`, fix: 'restore keys/ from the backup or fix keys.root.file' });
  }
  return out;
}

/** Loads the folder (config, registry if any, key file format) and lints it. Reads only: the registry is not reconciled. */
export async function lintAuthority(dir: string, now: number): Promise<AuthorityFinding[]> {
  const config = await loadAuthorityConfig(dir);
  let rootKey: AuthorityLintInput['rootKey'] = 'pkcs11';
  if (!config.keys.root.pkcs11) {
    try {
      rootKey = (await readKeyFileText(folderPath(dir, config.keys.root.file!))).format;
    } catch {
      rootKey = 'unreadable';
    }
  }
  let active: EndorsementRecord[] = [];
  if (existsSync(join(dir, 'registry.sqlite'))) {
    let reg: Registry;
    try {
      reg = Registry.open(dir, { reconcile: false });
    } catch (err) {
      throw new EmblemError('REGISTRY_UNAVAILABLE', (err as Error).message);
    }
    try {
      active = reg.list().filter((r) => r.status === 'active' && r.expires > now);
    } finally {
      reg.close();
    }
  }
  return lintAuthorityConfig({ config, now, active, rootKey });
}
