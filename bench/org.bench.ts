import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSuite } from './suites.js';
import { createLocalCa, issueBindingCertificate } from '../src/ct/local-ca.js';
import { startLocalCtLog } from '../src/ct/local-log/start-local-ct-log.js';
import { installNodeSignatureVerifier } from '../src/crypto/node-signature-verifier.js';
import { applyAll, withdraw } from '../src/org/apply.js';
import { loadConfig, saveConfig } from '../src/org/config.js';
import { initFolder, setBinding } from '../src/org/init.js';
import { openRuntime } from '../src/org/runtime.js';
import { loadState } from '../src/org/state.js';
import { tempDir } from '../test/dns/servers.js';
import { startKnotPrimary } from '../test/org/primaries.js';

const ASSETS = Number(process.env.BENCH_ORG_ASSETS ?? 1000);

/** `org apply` for 1,000 assets to Knot over RFC 2136 (sign, publish, verify each on the primary), then `withdraw --all`. */
const suite: BenchSuite = {
  name: 'org',
  async run() {
    installNodeSignatureVerifier();
    const work = tempDir('emblem-bench-org-');
    process.env.EMBLEM_CACHE_DIR = join(work.path, 'cache');
    const knot = await startKnotPrimary();
    const ca = await createLocalCa();
    const ctLog = await startLocalCtLog({ roots: [ca.certificate] });
    try {
      const dir = join(work.path, 'org');
      writeFileSync(join(work.path, 'ca.pem'), ca.pem);
      const assets = Array.from({ length: ASSETS }, (_, i) => `a${i}.${knot.zone}`);
      const { rootKid } = await initFolder({ dir, organization: `https://${knot.zone}`, assets, publish: [`rfc2136://127.0.0.1:${knot.port}/${knot.zone}`], tsigKey: knot.keyFile, ctLogLists: [ctLog.logListUrl], caBundle: join(work.path, 'ca.pem'), lifetime: '7d', era: 'jws', ttl: 60, alg: 'ES256' });
      const logged = await issueBindingCertificate(ca, ctLog.url, { host: knot.zone, kid: rootKid });
      writeFileSync(join(work.path, 'chain.pem'), logged.chainPem);
      writeFileSync(join(work.path, 'log.json'), JSON.stringify([logged.v1]));
      await setBinding(dir, join(work.path, 'chain.pem'), join(work.path, 'log.json'));
      await saveConfig(dir, await loadConfig(dir));
      const now = Math.floor(Date.now() / 1000);
      let t0 = performance.now();
      const rt = await openRuntime(dir, { now });
      const outcomes = await applyAll(rt, await loadState(dir));
      const applyMs = performance.now() - t0;
      const ok = outcomes.filter((o) => o.ok).length;
      console.log(`org apply, ${ASSETS} assets to Knot via RFC 2136 (sign + publish + verify on the primary): ${(applyMs / 1000).toFixed(1)} s, ${ok}/${ASSETS} verified (target < 30 s)${ok === ASSETS ? '' : ' — NOT ALL VERIFIED: ' + JSON.stringify(outcomes.find((o) => !o.ok))}`);
      t0 = performance.now();
      const w = await withdraw(rt, await loadState(dir), assets);
      const wdMs = performance.now() - t0;
      console.log(`org withdraw --all, ${ASSETS} assets: ${(wdMs / 1000).toFixed(1)} s, ${w.removed} records removed, ${w.remaining.reduce((n, r) => n + r.records, 0)} left on the primary (target < 5 s)`);
    } finally {
      await ctLog.close();
      await knot.stop();
      work.remove();
    }
  },
};
export default suite;
