import { bytesEqual } from '../core/merkle/hash.js';
import { verifyConsistency } from '../core/merkle/consistency.js';
import { ctError, CtErrorCodes } from './errors.js';
import type { TreeHead } from './tree-head.js';

/** Fetches the consistency proof between two sizes of one log (RFC 6962 get-sth-consistency, or from tiles). */
export type ConsistencyProver = (oldSize: number, newSize: number) => Promise<Uint8Array[]>;

/**
 * The verified tree heads a client has seen, per log. Each new head must be consistent with the largest one
 * seen before (RFC 9162 §8.1.2): a log that shows us two different histories — a split view — is caught the
 * second time we talk to it. In memory and pure (the browser extension uses it); TreeHeadStore persists it.
 */
export class TreeHeadHistory {
  protected readonly heads = new Map<string, TreeHead>();

  /** Called after a larger head was remembered (the Node store persists it). */
  protected async remembered(): Promise<void> {}

  latest(logId: string): TreeHead | undefined {
    return this.heads.get(logId);
  }

  /**
   * Checks `head` against the stored one and remembers the larger. Throws CT_LOG_INCONSISTENT when the log cannot
   * prove the two consistent.
   */
  async observe(logId: string, head: TreeHead, prove: ConsistencyProver): Promise<void> {
    const known = this.heads.get(logId);
    if (known) {
      const [older, newer] = known.treeSize <= head.treeSize ? [known, head] : [head, known];
      if (older.treeSize === newer.treeSize) {
        if (!bytesEqual(older.rootHash, newer.rootHash)) {
          throw ctError(CtErrorCodes.CT_LOG_INCONSISTENT, `log ${logId} signed two different roots for tree size ${older.treeSize}`);
        }
      } else if (older.treeSize > 0) {
        let proof: Uint8Array[];
        try {
          proof = await prove(older.treeSize, newer.treeSize);
        } catch (err) {
          // A log that will not prove consistency is treated like one that cannot.
          throw ctError(CtErrorCodes.CT_LOG_INCONSISTENT, `log ${logId}: no consistency proof from ${older.treeSize} to ${newer.treeSize}: ${err instanceof Error ? err.message : String(err)}`, err);
        }
        if (!verifyConsistency(older.treeSize, newer.treeSize, older.rootHash, newer.rootHash, proof)) {
          throw ctError(CtErrorCodes.CT_LOG_INCONSISTENT, `log ${logId}: tree heads of size ${older.treeSize} and ${newer.treeSize} are not consistent (the log forked)`);
        }
      }
      if (known.treeSize >= head.treeSize) return;
    }
    this.heads.set(logId, head);
    await this.remembered();
  }
}
