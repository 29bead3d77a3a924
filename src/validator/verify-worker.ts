import { parentPort, workerData } from 'node:worker_threads';
import { skipCommitmentCheck, type CommitmentChecker, type CommitmentOutcome } from '../core/verify/commitment.js';
import { loadPublicKeys, verifyMaterial } from '../core/verify/index.js';
import { createSignatureCache } from '../core/verify/signature-cache.js';
import { reportError } from '../core/errors.js';
import { installNodeSignatureVerifier } from '../crypto/node-signature-verifier.js';
import { ParsedMaterialCache } from './parsed-material-cache.js';
import type { FromVerifyWorker, ToVerifyWorker, VerifyWorkerConfig } from './verify-messages.js';

/**
 * A verification thread of `emblem scan`: verifies token sets with one signature cache and one parsed-material
 * cache for its whole life (so an authority's endorsement is parsed and checked once per thread, not once per
 * target) and asks the main thread for root-key
 * commitments, which are cached and rate-limited there for all threads together.
 */
// Each thread has its own module instances: the process-wide choice made in cli/main.ts does not reach here.
// node:crypto verifies synchronously on this thread (no libuv pool hop), so N threads use N cores.
installNodeSignatureVerifier();
const config = workerData as VerifyWorkerConfig;
const port = parentPort!;
const now = new Date(config.now);
const cache = createSignatureCache(config.signatureCacheEntries);
const parsed = new ParsedMaterialCache();
// The CLI validated these keys already; parse them once for the thread's life.
const trustedKeys = (await Promise.all(config.trustedKeys.map((k) => loadPublicKeys(k)))).flat();
const pendingCommitments = new Map<number, (o: CommitmentOutcome) => void>();
let nextCommitmentId = 0;

const commitments: CommitmentChecker = config.skipCommitments
  ? skipCommitmentCheck
  : {
      check(request) {
        const id = nextCommitmentId++;
        return new Promise((resolve) => {
          pendingCommitments.set(id, resolve);
          port.postMessage({ type: 'commitment', id, request } satisfies FromVerifyWorker);
        });
      },
    };

port.on('message', (message: ToVerifyWorker) => {
  if (message.type === 'commitment-outcome') {
    const resolve = pendingCommitments.get(message.id);
    pendingCommitments.delete(message.id);
    resolve?.(message.outcome);
    return;
  }
  void Promise.all(
    message.jobs.map(async (job) => {
      try {
        const report = await verifyMaterial(job.material, { now, trustedKeys, policy: config.policy, commitments, cache, parser: parsed });
        return { id: job.id, report };
      } catch (err) {
        // verifyMaterial reports hostile input instead of throwing; anything else is a bug, reported per set.
        const e = reportError(err);
        return {
          id: job.id,
          report: {
            era: null, result: ['INVALID' as const], levels: [], protected: [], issuer: null, endorsedBy: [],
            commitment: 'not-required' as const, errors: [e], emblem: null, verifiedAt: now.toISOString(),
          },
        };
      }
    }),
  ).then((results) => port.postMessage({ type: 'verified', results } satisfies FromVerifyWorker));
});
