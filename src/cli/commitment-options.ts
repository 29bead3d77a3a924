import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { CtCommitmentChecker } from '../ct/commitment-checker.js';
import { DEFAULT_LOG_LIST_URLS, defaultCacheDir, loadLogLists } from '../ct/log-list-source.js';
import { DEFAULT_CA_BUNDLE, type CommitmentFlags } from './commitment-flags.js';
import { bundleDirectory, readCtBundle, replayHttp, type CtBundle } from '../ct/offline-bundle.js';
import { TreeHeadStore } from '../ct/tree-head-store.js';
import { parsePemCertificates } from '../ct/certificate.js';
import { CtLimits } from '../ct/limits.js';
import { UsageError } from './exit.js';

export { addCommitmentOptions, ctBundleLine, DEFAULT_CA_BUNDLE, type CommitmentFlags } from './commitment-flags.js';

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

const bundles = new Map<string, Promise<CtBundle>>();

/** The offline bundle the flags name (read once per process), or null. Unreadable: a usage error (exit 2). */
export async function ctBundleFromOptions(flags: CommitmentFlags): Promise<CtBundle | null> {
  if (flags.ctBundle === undefined) return null;
  if (flags.skipCommitmentCheck) throw new UsageError('--ct-bundle checks commitments; it makes no sense with --skip-commitment-check');
  if (flags.logList?.length) throw new UsageError('--ct-bundle brings its own log lists: give either --ct-bundle or --log-list');
  let loading = bundles.get(flags.ctBundle);
  if (!loading) {
    loading = readCtBundle(flags.ctBundle);
    bundles.set(flags.ctBundle, loading);
  }
  try {
    return await loading;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'CT_BUNDLE_INVALID');
  }
}

/** Where offline CT evidence came from and how old it is at the verification time (negative: made after it). */
export async function ctBundleInfo(flags: CommitmentFlags, now: Date): Promise<{ path: string; createdAt: string; ageSeconds: number } | null> {
  const bundle = await ctBundleFromOptions(flags);
  if (!bundle || flags.ctBundle === undefined) return null;
  return { path: flags.ctBundle, createdAt: bundle.createdAt, ageSeconds: Math.round((now.getTime() - Date.parse(bundle.createdAt)) / 1000) };
}

/**
 * The checker the flags ask for. By default commitments are really checked against the Google and Apple lists;
 * fetched lists and the tree heads seen (for fork detection across runs) live in the cache directory
 * ($EMBLEM_CACHE_DIR, else ~/.cache/emblem).
 */
export async function commitmentCheckerFromOptions(flags: CommitmentFlags): Promise<CommitmentChecker> {
  const bundle = await ctBundleFromOptions(flags);
  if (flags.skipCommitmentCheck) return skipCommitmentCheck;
  return ctCheckerFromOptions(flags, bundle);
}

/**
 * The real checker for these flags (also used by `emblem ct check`, which prints its per-entry detail). With an
 * offline bundle it replays the recorded answers (every proof is checked again) and never uses the network; its
 * tree heads are kept in memory, so an old bundle does not rewind the on-disk record used for fork detection.
 */
export function ctCheckerFromOptions(flags: CommitmentFlags, bundle: CtBundle | null = null): CtCommitmentChecker {
  if (bundle) {
    const directory = bundleDirectory(bundle);
    return new CtCommitmentChecker({
      logDirectory: async () => directory,
      policy: flags.commitmentPolicy ?? 'all',
      binding: { failOnExpired: flags.failOnExpiredBinding === true },
      http: replayHttp(bundle),
      treeHeads: new TreeHeadStore(),
    });
  }
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
