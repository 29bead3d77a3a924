import type { Era } from '../core/tokens/token.js';
import type { PublicKey } from '../core/tokens/keys.js';
import { skipCommitmentCheck, type CommitmentChecker, type LogPointer } from '../core/verify/commitment.js';

export interface DemoCommitments {
  logFor(name: 'orgRoot' | 'authority', era: Era): LogPointer[];
  checker: CommitmentChecker;
  explanation: string;
  close(): Promise<void>;
}

/**
 * How the demo commits its root keys. Until a local CA and CT log are wired in, commitments are skipped
 * explicitly and the report says so.
 */
export async function prepareCommitments(_dir: string, roots: Array<{ name: string; host: string; key: PublicKey }>): Promise<DemoCommitments> {
  const placeholder: LogPointer[] = [{ ver: 'v1', id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }];
  return {
    logFor: () => placeholder,
    checker: skipCommitmentCheck,
    explanation: `Root keys of ${roots.map((r) => r.host).join(' and ')} carry placeholder CT log entries; commitments were skipped (reported as such).`,
    async close() {},
  };
}
