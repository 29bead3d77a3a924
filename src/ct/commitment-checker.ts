import { LogChainValidator } from './chain-validation.js';
import { CtCommitmentCheckerBase, type CtCommitmentCheckerBaseOptions } from './commitment-checker-base.js';
import { maybeGunzip } from './gunzip-node.js';
import { verifyDigitallySigned } from './signature.js';

export {
  pointerKind,
  type ChainReport,
  type CommitmentPolicy,
  type DetailedCommitmentOutcome,
  type EntryChain,
  type LogEntryReport,
} from './commitment-checker-base.js';

export interface CtCommitmentCheckerOptions extends CtCommitmentCheckerBaseOptions {
  /** Trust store (DER certificates, `--ca-bundle`): chains must also lead to one of these CAs; null/absent = the log's roots decide. */
  trustStore?: readonly Uint8Array[] | null;
  /** How long a log's get-roots answer is reused. */
  rootsTtlMs?: number;
}

/**
 * The root-key commitment check for Node (the CLI, the API, the observatory): signatures with node:crypto, tiles
 * inflated with node:zlib, and every logged chain validated to the log's roots (and the trust store, if given).
 */
export class CtCommitmentChecker extends CtCommitmentCheckerBase {
  constructor(options: CtCommitmentCheckerOptions) {
    const chains = new LogChainValidator({
      trustStore: options.trustStore ?? null,
      now: options.now ?? Date.now,
      ...(options.rootsTtlMs !== undefined ? { rootsTtlMs: options.rootsTtlMs } : {}),
    });
    super(options, { verify: verifyDigitallySigned, gunzip: maybeGunzip, chains });
  }
}
