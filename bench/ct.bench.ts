import type { BenchSuite } from './suites.js';
import { measure, type Measurement } from './measure.js';
import type { CommitmentRequest, LogPointer } from '../src/core/verify/commitment.js';
import { fromBase64 } from '../src/ct/bytes.js';
import { CtCommitmentChecker } from '../src/ct/commitment-checker.js';
import { createLocalCa, issueBindingCertificate, issueCertificate } from '../src/ct/local-ca.js';
import { startLocalCtLog } from '../src/ct/local-log/start-local-ct-log.js';
import type { LogEntryJson } from '../src/ct/leaf-hash.js';
import { clearLogListMemoryCache, loadLogLists } from '../src/ct/log-list-source.js';
import { submitChain } from '../src/ct/submission.js';

/** Entries in the local log before the measured one: enough for 10-level audit paths and several tiles. */
const TREE_SIZE = 1000;
const HOST = 'bench.example';
const KID = 'n5e6i7nfwq3k2ymzttu7ynlu3ouhb2dmazwxhsjvchd6zwd5wfha';

function pointer(e: LogEntryJson): LogPointer {
  return e.ver === 'v1' ? { ver: 'v1', id: fromBase64(e.id)!, hash: fromBase64(e.hash)! } : { ver: 'static', id: fromBase64(e.id)!, index: e.index };
}

const suite: BenchSuite = {
  name: 'ct (root-key commitment checks against the local CT log on loopback)',
  async run() {
    const ca = await createLocalCa();
    const log = await startLocalCtLog({ roots: [ca.certificate], batchMs: 5 });
    try {
      // Fill the tree in bounded batches of concurrent submissions (each batch is sequenced together).
      for (let done = 0; done < TREE_SIZE; done += 100) {
        const certs = await Promise.all(Array.from({ length: 100 }, (_, i) => issueCertificate(ca, { dnsNames: [`filler${done + i}.example`] })));
        await Promise.all(certs.map((c) => submitChain(log.url, [c, ca.certificate])));
      }
      const bound = await issueBindingCertificate(ca, log.url, { host: HOST, kid: KID });
      console.log(`local log: ${log.log.treeHead.treeSize} entries at ${log.url}`);
      const requestFor = (e: LogEntryJson): CommitmentRequest => ({
        era: 'jws', issuer: `https://${HOST}`, host: HOST, kid: KID, publicKey: {}, logs: [pointer(e)], now: new Date(),
      });
      const newChecker = (entryTtlMs?: number) =>
        new CtCommitmentChecker({ logDirectory: () => loadLogLists([log.logListUrl]), ...(entryTtlMs !== undefined ? { entryTtlMs } : {}) });
      const run = async (checker: CtCommitmentChecker, e: LogEntryJson) => {
        const outcome = await checker.check(requestFor(e));
        if (outcome.status !== 'verified') throw new Error(JSON.stringify(outcome.errors));
      };

      for (const [kind, entry] of [['RFC 6962 (v1 hash)', bound.v1], ['static-ct (tile index)', bound.static]] as const) {
        // Cold: a new checker each time: log list, tree head (signature), proof / tiles, entry, all fetched and verified.
        const cold = await measure(() => {
          clearLogListMemoryCache();
          return run(newChecker(), entry);
        }, 20);
        // Warm tree head: list and signed tree head cached (60 s TTL), the inclusion proof is fetched and checked each time.
        const headChecker = newChecker(0);
        const warmHead = await measure(() => run(headChecker, entry), 20);
        // Warm: the proven entry is cached too; only the binding is re-evaluated (no network).
        const warmChecker = newChecker();
        const warm = await measure(() => run(warmChecker, entry), 200);
        const fmt = (m: Measurement) => `${m.perSecond.toFixed(0).padStart(6)} checks/s (${m.cpuMicros.toFixed(0)} µs CPU each)`;
        console.log(`${kind.padEnd(24)} cold            ${fmt(cold)}`);
        console.log(`${''.padEnd(24)} warm tree head  ${fmt(warmHead)} = ${(warmHead.perSecond / cold.perSecond).toFixed(1)}x cold`);
        console.log(`${''.padEnd(24)} warm cache      ${fmt(warm)} = ${(warm.perSecond / cold.perSecond).toFixed(0)}x cold`);
      }
    } finally {
      await log.close();
    }
  },
};

export default suite;
