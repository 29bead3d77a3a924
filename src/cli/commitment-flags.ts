import { Option, type Command } from 'commander';
import type { CommitmentPolicy } from '../ct/commitment-checker.js';
import { DEFAULT_LOG_LIST_URLS } from '../ct/log-list-urls.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';

// The flags alone, without the CT stack behind them (X.509, ASN.1): registering a command must stay cheap, so the
// commands import this at start-up and ./commitment-options.ts (the checkers) only inside their actions.

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
    .option('--ct-bundle <file>', 'verify commitments offline from this bundle (written by `emblem ct prefetch`): no network; the report gives the bundle\'s age')
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
  ctBundle?: string;
}

/**
 * The checker the flags ask for (commitment-options.ts's commitmentCheckerFromOptions), loading the CT stack only
 * when commitments are really checked: `--skip-commitment-check` without `--ct-bundle` never needs it.
 */
export async function commitmentCheckerFor(flags: CommitmentFlags): Promise<CommitmentChecker> {
  if (flags.skipCommitmentCheck && flags.ctBundle === undefined) return skipCommitmentCheck;
  return (await import('./commitment-options.js')).commitmentCheckerFromOptions(flags);
}

/** commitment-options.ts's ctBundleInfo, loaded only when a bundle was given. */
export async function ctBundleInfoFor(flags: CommitmentFlags, now: Date): Promise<CtBundleInfo | null> {
  if (flags.ctBundle === undefined) return null;
  return (await import('./commitment-options.js')).ctBundleInfo(flags, now);
}

export interface CtBundleInfo {
  path: string;
  createdAt: string;
  ageSeconds: number;
}

/** One line for text reports. */
export function ctBundleLine(info: CtBundleInfo): string {
  const days = Math.abs(info.ageSeconds) / 86_400;
  const age = days >= 1 ? `${days.toFixed(1)} days` : `${Math.round(Math.abs(info.ageSeconds) / 60)} minutes`;
  return `CT evidence: offline bundle ${info.path}, collected ${info.createdAt} (${age} ${info.ageSeconds >= 0 ? 'before' : 'after'} the verification time)`;
}
