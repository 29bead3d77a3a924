import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { CtCommitmentChecker, type CommitmentPolicy } from '../ct/commitment-checker.js';
import { DEFAULT_LOG_LIST_URLS, defaultCacheDir, loadLogLists } from '../ct/log-list-source.js';
import { TreeHeadStore } from '../ct/tree-head-store.js';
import { parsePemCertificates } from '../ct/certificate.js';
import { CtLimits } from '../ct/limits.js';
import { UsageError } from './exit.js';

/** Debian's (and Ubuntu's) system CA bundle from the ca-certificates package: the default trust store when present. */
export const DEFAULT_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Flags shared by every command that verifies (verify, check, scan): how root-key commitments are checked. */
export function addCommitmentOptions(cmd: Command): Command {
  return cmd
    .option(
      '--skip-commitment-check',
      'do not check root-key commitments in Certificate Transparency (reported as "commitment": "skipped")',
    )
    .option(
      '--log-list <file|url>',
      `CT log list (v3 log_list.json) to trust; repeatable, merged in order (default: ${DEFAULT_LOG_LIST_URLS.join(' and ')}, cached)`,
      collect,
    )
    .addOption(
      new Option('--commitment-policy <policy>', 'all: every log entry must verify (prototypes); any: one verified entry suffices')
        .choices(['all', 'any'])
        .default('all'),
    )
    .option('--fail-on-expired-binding', 'an expired binding certificate fails the commitment (default: reported, not failed; deployed 90-day certificates expire before the tokens)')
    .option(
      '--ca-bundle <file>',
      `PEM trust store: the chain a log stores with a binding certificate must also lead to one of these CAs (default: ${DEFAULT_CA_BUNDLE} when present, else only the log's roots)`,
    );
}

export interface CommitmentFlags {
  skipCommitmentCheck?: boolean;
  logList?: string[];
  commitmentPolicy?: CommitmentPolicy;
  failOnExpiredBinding?: boolean;
  caBundle?: string;
}

/**
 * The trust store for chain validation: `--ca-bundle FILE` (unreadable or empty is a usage error), else Debian's
 * bundle when the file exists, else none (the roots each log accepts decide alone).
 */
export function trustStoreFromOptions(flags: CommitmentFlags): Uint8Array[] | null {
  const path = flags.caBundle ?? DEFAULT_CA_BUNDLE;
  const explicit = flags.caBundle !== undefined;
  let text: string;
  try {
    if (statSync(path).size > CtLimits.maxTrustStoreBytes) throw new UsageError(`${path} is larger than ${CtLimits.maxTrustStoreBytes} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!explicit) return null;
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--ca-bundle: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let certificates: Uint8Array[];
  try {
    certificates = parsePemCertificates(text, CtLimits.maxTrustStoreCertificates);
  } catch (err) {
    throw new UsageError(`--ca-bundle: ${path}: ${(err as Error).message}`);
  }
  if (certificates.length === 0) {
    if (!explicit) return null;
    throw new UsageError(`--ca-bundle: ${path} holds no PEM certificate`);
  }
  return certificates;
}

/**
 * The checker the flags ask for. By default commitments are really checked against the Google and Apple lists;
 * fetched lists and the tree heads seen (for fork detection across runs) live in the cache directory
 * ($EMBLEM_CACHE_DIR, else ~/.cache/emblem).
 */
export async function commitmentCheckerFromOptions(flags: CommitmentFlags): Promise<CommitmentChecker> {
  if (flags.skipCommitmentCheck) return skipCommitmentCheck;
  return ctCheckerFromOptions(flags);
}

/** The real checker for these flags (also used by `emblem ct check`, which prints its per-entry detail). */
export function ctCheckerFromOptions(flags: CommitmentFlags): CtCommitmentChecker {
  const sources = flags.logList?.length ? flags.logList : [...DEFAULT_LOG_LIST_URLS];
  const cacheDir = defaultCacheDir();
  return new CtCommitmentChecker({
    logDirectory: () => loadLogLists(sources, { cacheDir }),
    policy: flags.commitmentPolicy ?? 'all',
    binding: { failOnExpired: flags.failOnExpiredBinding === true },
    treeHeads: new TreeHeadStore(join(cacheDir, 'tree-heads.json')),
    trustStore: trustStoreFromOptions(flags),
  });
}
