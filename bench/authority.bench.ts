import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { measure } from './measure.js';
import { issue, signEndorsement } from '../src/authority/grant.js';
import { initAuthority, setAuthorityBinding } from '../src/authority/init.js';
import { Registry, type EndorsementRecord } from '../src/authority/registry.js';
import { openAuthority, type AuthorityRuntime } from '../src/authority/runtime.js';
import { generateSigningKey } from '../src/core/tokens/sign.js';
import type { PublicKey } from '../src/core/tokens/keys.js';
import { tempDir } from '../test/dns/servers.js';
import { thirdPartyEnv } from '../test/helpers/third-party.js';

const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const SOFTHSM_UTIL = '/usr/bin/softhsm2-util';
const PIN = 'emblem-bench-2718';
const RECORDS = Number(process.env.BENCH_AUTHORITY_RECORDS ?? 10_000);
const DAY = 86_400;
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const LOG = JSON.stringify([{ ver: 'v1', id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }]);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

/** An authority folder with a (placeholder) binding: signing reads only the `log` entries, not the chain. */
async function authority(work: string, name: string, alg: 'ES256' | 'ES512', pkcs11?: { token: string }): Promise<AuthorityRuntime> {
  const dir = join(work, name);
  await initAuthority({ dir, authority: `https://${name}.example`, lifetime: '365d', maxRequestAge: '30d', alg, ...(pkcs11 ? { pkcs11: { module: SOFTHSM_MODULE, token: pkcs11.token, label: `bench-${name}`, pin: PIN } } : {}) });
  writeFileSync(join(work, 'chain.pem'), 'placeholder\n');
  await setAuthorityBinding(dir, join(work, 'chain.pem'), LOG);
  return openAuthority(dir, { now: Math.floor(Date.now() / 1000) });
}

async function signRow(label: string, rt: AuthorityRuntime, endorsed: PublicKey): Promise<void> {
  await rt.rootKey(); // open the key (and the token session) outside the timing
  const m = await measure(() => signEndorsement(rt, { organization: 'https://hospital.example', rootKey: endorsed, constraints: { assets: ['*.hospital.example'], purposes: ['protective'] }, lifetime: 365 * DAY, now: rt.now }));
  console.log(`${label}: ${m.perSecond.toFixed(0)} endorsements/s, ${(m.cpuMicros / 1000).toFixed(2)} ms CPU each`);
}

/**
 * Endorsements signed per second (ES512 root key in a file; ES256/ES512 root key in SoftHSM2), the full grant write
 * path, and the registry's `list --expiring 30d` at 10,000 records (library query, the CLI's open+query in-process,
 * and the CLI process).
 */
const suite: BenchSuite = {
  name: 'authority',
  async run() {
    const work = tempDir('emblem-bench-authority-');
    const opened: AuthorityRuntime[] = [];
    try {
      const { key: org } = await generateSigningKey('ES256');
      const endorsed = org.publicKey;

      // 1. Signing with a file key (ES256 for comparison).
      for (const alg of ['ES512', 'ES256'] as const) {
        const rt = await authority(work.path, `file-${alg.toLowerCase()}`, alg);
        opened.push(rt);
        await signRow(`authority endorsement signing, ${alg} root key in a file (signEndorsement: JWS ${alg} signature + response object; no file or registry writes)`, rt, endorsed);
      }

      // 2. The grant write path (sign + issued/<id>.json and the response file, atomic and fsync'd, + one registry transaction).
      {
        const rt = opened[0]!;
        const reg = Registry.open(rt.dir, { now: rt.now });
        const out = join(work.path, 'responses');
        mkdirSync(out, { recursive: true });
        let n = 0;
        const m = await measure(async () => {
          const r = await signEndorsement(rt, { organization: `https://org${n}.example`, rootKey: endorsed, constraints: { assets: [`*.org${n}.example`] }, lifetime: 365 * DAY, now: rt.now });
          n++;
          await issue(rt, reg, r, { out: join(out, `${r.id}.json`), requestText: null, requestFile: null, nonce: null });
        });
        reg.close();
        console.log(`authority issue path, ES512 file key (sign + 2 atomic fsync'd file writes + 1 SQLite transaction, synchronous=FULL; what grant/renew do per endorsement): ${m.perSecond.toFixed(0)} endorsements/s, ${(m.cpuMicros / 1000).toFixed(2)} ms CPU each`);
      }

      // 3. Signing in SoftHSM2.
      if (!existsSync(SOFTHSM_MODULE) || !existsSync(SOFTHSM_UTIL)) {
        console.log(`authority endorsement signing in SoftHSM2: SKIPPED (softhsm2 not installed: ${SOFTHSM_MODULE} or ${SOFTHSM_UTIL} missing)`);
      } else {
        const tokens = join(work.path, 'tokens');
        mkdirSync(tokens);
        const conf = join(work.path, 'softhsm2.conf');
        writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
        process.env.SOFTHSM2_CONF = conf;
        process.env.EMBLEM_PKCS11_PIN = PIN;
        execFileSync(SOFTHSM_UTIL, ['--init-token', '--free', '--label', 'emblem-bench', '--pin', PIN, '--so-pin', '5678'], { env: thirdPartyEnv({ SOFTHSM2_CONF: conf }), stdio: 'pipe', timeout: 20_000 });
        for (const alg of ['ES512', 'ES256'] as const) {
          const rt = await authority(work.path, `hsm-${alg.toLowerCase()}`, alg, { token: 'emblem-bench' });
          opened.push(rt);
          await signRow(`authority endorsement signing, ${alg} root key in SoftHSM2 via PKCS#11 (signEndorsement: C_Sign in the token + response object; no writes)`, rt, endorsed);
        }
      }

      // 4. The registry at RECORDS records: expiries spread evenly over the next 365 days, so ~30/365 are due in 30 days.
      {
        const dir = join(work.path, 'registry');
        mkdirSync(join(dir, 'issued'), { recursive: true });
        const now = Math.floor(Date.now() / 1000);
        const reg = Registry.open(dir, { now });
        reg.db.transaction(() => {
          for (let i = 0; i < RECORDS; i++) {
            const id = `20260101-${i.toString(16).padStart(12, '0')}`;
            const expires = now + Math.floor(((i + 0.5) * 365 * DAY) / RECORDS);
            const rec: EndorsementRecord = { id, organization: `https://org${i}.example`, kid: `kid${i}`, coseKid: `cose${i}`, constraints: { assets: [`*.org${i}.example`], purposes: ['protective'] }, issued: expires - 365 * DAY, expires, status: 'active', reason: null, revokedAt: null, issuedFile: `issued/${id}.json`, responseFile: null, requestFile: `requests/${id}.json`, renewedFrom: null };
            reg.record(rec, { now, nonce: `n${i}`, action: 'grant' });
          }
        })();
        // Each record's issued file exists, as in a real folder: Registry.open checks issued/ against the rows.
        for (let i = 0; i < RECORDS; i++) writeFileSync(join(dir, 'issued', `20260101-${i.toString(16).padStart(12, '0')}.json`), '{}\n');
        const before = now + 30 * DAY;
        const q: number[] = [];
        let matched = 0;
        for (let i = 0; i < 30; i++) {
          const t0 = performance.now();
          matched = reg.list({ expiringBefore: before }).length;
          q.push(performance.now() - t0);
        }
        reg.close();
        console.log(`authority registry query, list --expiring 30d over ${RECORDS} records (Registry.list: indexed SQL query + decoding ${matched} matching rows; registry already open): min ${ms(Math.min(...q))}, median ${ms(median(q))} over ${q.length} runs (target < 100 ms)`);

        const full: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now();
          const r = Registry.open(dir, { now });
          const rows = r.list({ expiringBefore: before });
          JSON.stringify({ endorsements: rows });
          r.close();
          full.push(performance.now() - t0);
        }
        console.log(`authority list --expiring 30d in-process as the CLI runs it, ${RECORDS} records (Registry.open with schema check + reconcile of ${RECORDS} issued files, query, JSON, close): first (cold) ${ms(full[0]!)}, min ${ms(Math.min(...full))}, median ${ms(median(full))} over ${full.length} runs (target < 100 ms)`);

        if (existsSync(CLI)) {
          const cli: number[] = [];
          let count = -1;
          for (let i = 0; i < 5; i++) {
            const t0 = performance.now();
            const p = spawnSync(process.execPath, [CLI, 'authority', 'list', '--dir', dir, '--expiring', '30d', '--at', new Date(now * 1000).toISOString(), '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
            cli.push(performance.now() - t0);
            if (p.status !== 0) throw new Error(`emblem authority list failed: ${p.stderr}`);
            count = (JSON.parse(p.stdout) as { endorsements: unknown[] }).endorsements.length;
          }
          console.log(`emblem authority list --expiring 30d --json, ${RECORDS} records, whole CLI process (node start-up + module loading + the above; ${count} rows printed): min ${ms(Math.min(...cli))}, median ${ms(median(cli))} over ${cli.length} runs`);
          const emptyDir = join(work.path, 'empty-registry');
          mkdirSync(emptyDir);
          const base: number[] = [];
          for (let i = 0; i < 3; i++) {
            const t0 = performance.now();
            spawnSync(process.execPath, [CLI, 'authority', 'list', '--dir', emptyDir, '--expiring', '30d', '--json'], { encoding: 'utf8' });
            base.push(performance.now() - t0);
          }
          console.log(`emblem authority list --expiring 30d --json on an EMPTY registry (the CLI process baseline: node start-up + module loading, to subtract from the row above): min ${ms(Math.min(...base))}, median ${ms(median(base))} over ${base.length} runs`);
        } else {
          console.log(`emblem authority list CLI process row: SKIPPED (${CLI} not built; run npm run build)`);
        }
      }
    } finally {
      for (const rt of opened) rt.close();
      work.remove();
    }
  },
};
export default suite;
