import type { Command } from 'commander';
import {
  noCommitmentChecker,
  skipCommitmentCheck,
  type CommitmentChecker,
} from '../core/verify/commitment.js';

/** Flags shared by every command that verifies (verify, check, scan): how root-key commitments are checked. */
export function addCommitmentOptions(cmd: Command): Command {
  return cmd.option(
    '--skip-commitment-check',
    'do not check root-key commitments in Certificate Transparency (reported as "commitment": "skipped")',
  );
}

export interface CommitmentFlags {
  skipCommitmentCheck?: boolean;
}

export async function commitmentCheckerFromOptions(flags: CommitmentFlags): Promise<CommitmentChecker> {
  if (flags.skipCommitmentCheck) return skipCommitmentCheck;
  return noCommitmentChecker;
}
