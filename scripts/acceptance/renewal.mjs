#!/usr/bin/env node
// Issue 10, acceptance 2: renewal without a gap, in real time (about 7 minutes; not part of `npm test`).
//
//   npm run build && node scripts/acceptance/renewal.mjs [--phase-seconds 180] [--keep]
//
// Starts Knot with a TSIG key (test/org/primaries.ts), a local CA and a local CT log (as test/org/run.test.ts
// does), creates an organisation folder with `--lifetime 30s --renew-before 15s`, publishes once, then:
//   phase 1: `emblem org run` for --phase-seconds while a checker asks Knot every second and verifies what it sees;
//   phase 2: the same, with `org run` killed with SIGKILL at three random moments and restarted after 5 s each.
// Prints the answers per verdict per phase; exits 1 if any answer was not `protected`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(root, 'dist/cli/main.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const PHASE_SECONDS = Number(arg('--phase-seconds', '180'));
const KEEP = process.argv.includes('--keep');
if (!existsSync(CLI)) {
  console.error('renewal.mjs: dist/cli/main.js is missing: run npm run build first');
  process.exit(2);
}
const { thirdPartyEnv } = await import('../../test/helpers/third-party.ts');
if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) {
  console.error('renewal.mjs: knotd and tsig-keygen are needed (Debian: knot, bind9-utils)');
  process.exit(2);
}
const { startKnotPrimary } = await import('../../test/org/primaries.ts');
const { createLocalCa, issueBindingCertificate } = await import('../../src/ct/local-ca.ts');
const { startLocalCtLog } = await import('../../src/ct/local-log/start-local-ct-log.ts');
const { ctCheckerFromOptions } = await import('../../src/cli/commitment-options.ts');
const { checkName } = await import('../../src/dns/name-check.ts');
const { verifyMaterial } = await import('../../src/core/verify/index.ts');
const { installNodeSignatureVerifier } = await import('../../src/crypto/node-signature-verifier.ts');
installNodeSignatureVerifier();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString();
const say = (msg) => console.log(`[${stamp()}] ${msg}`);

const work = mkdtempSync(join(tmpdir(), 'emblem-acceptance-renewal-'));
const env = { ...process.env, EMBLEM_CACHE_DIR: join(work, 'cache'), EMBLEM_PASSPHRASE: `acceptance-${process.pid}` };
const dir = join(work, 'org');
const children = new Set();
let primary = null;
let ctLog = null;

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`emblem ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** One `org run` daemon; its JSON log lines go to a file and are counted by event. */
function startDaemon(label) {
  const log = createWriteStream(join(work, `run-${label}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [CLI, 'org', 'run', '--dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events = {};
  let buffered = '';
  child.stdout.on('data', (d) => {
    log.write(d);
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) {
      try {
        const e = JSON.parse(line);
        events[e.event] = (events[e.event] ?? 0) + 1;
      } catch {
        events.unparsed = (events.unparsed ?? 0) + 1;
      }
    }
  });
  child.stderr.on('data', (d) => log.write(d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  children.add(child);
  void exited.then(() => children.delete(child));
  return { child, exited, events };
}

async function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  await ctLog?.close().catch(() => {});
  await primary?.stop().catch(() => {});
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    void cleanup().then(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  primary = await startKnotPrimary();
  const ca = await createLocalCa();
  ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  writeFileSync(join(work, 'ca.pem'), ca.pem);
  const asset = `clinic.${primary.zone}`;
  say(`Knot on 127.0.0.1:${primary.port} (zone ${primary.zone}), local CT log ${ctLog.url}, folder ${dir}`);
  const init = JSON.parse(cli(['org', 'init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', asset, '--publish', `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`,
    '--tsig-key', primary.keyFile, '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work, 'ca.pem'), '--lifetime', '30s', '--renew-before', '15s', '--ttl', '5', '--yes', '--json']));
  const logged = await issueBindingCertificate(ca, ctLog.url, { host: primary.zone, kid: init.rootKid });
  writeFileSync(join(dir, 'chain.pem'), logged.chainPem);
  writeFileSync(join(dir, 'log.json'), JSON.stringify([logged.v1]));
  cli(['org', 'set-binding', '--dir', dir, '--chain', join(dir, 'chain.pem'), '--log', join(dir, 'log.json')]);
  cli(['org', 'apply', '--dir', dir, '--quiet']);
  say(`published ${asset} (lifetime 30 s, renewal margin 15 s); checking every second`);

  // The checker: what any validator sees on the primary, fully verified (signatures, chain, CT commitment).
  const checker = ctCheckerFromOptions({ logList: [ctLog.logListUrl], caBundle: join(work, 'ca.pem') });
  const answers = { 'phase 1': {}, 'phase 2': {} };
  const oddities = [];
  let phase = 'phase 1';
  let checking = true;
  const loop = (async () => {
    const start = Date.now();
    for (let tick = 0; checking; tick++) {
      const at = start + tick * 1000;
      if (Date.now() < at) await sleep(at - Date.now());
      if (!checking) break;
      const p = phase;
      let verdict;
      try {
        const r = await checkName(asset, { resolver: { kind: 'udp', host: '127.0.0.1', port: primary.port }, era: 'any', ihleType: 65400, timeoutMs: 2000, attempts: 2 }, (m) =>
          verifyMaterial(m, { now: new Date(), commitments: checker }),
        );
        verdict = r.status;
        if (verdict !== 'protected') oddities.push(`${stamp()} ${p}: ${verdict} ${JSON.stringify(r.errors).slice(0, 300)}`);
      } catch (err) {
        verdict = 'checker-error';
        oddities.push(`${stamp()} ${p}: ${err?.message ?? err}`);
      }
      answers[p][verdict] = (answers[p][verdict] ?? 0) + 1;
      // A late answer does not shift the schedule: skip the ticks it overran.
      tick = Math.max(tick, Math.floor((Date.now() - start) / 1000));
    }
  })();

  // Phase 1: org run undisturbed.
  say(`phase 1: org run for ${PHASE_SECONDS} s`);
  const d1 = startDaemon('phase1');
  await sleep(PHASE_SECONDS * 1000);
  d1.child.kill('SIGTERM');
  const e1 = await d1.exited;
  phase = 'phase 2';
  say(`phase 1 done: org run ended (exit code ${e1.code}, signal ${e1.signal}) after SIGTERM; log events ${JSON.stringify(d1.events)}`);

  // Phase 2: SIGKILL at three random moments (one in each third of the phase), restart after 5 s.
  const third = PHASE_SECONDS / 3;
  const kills = [0, 1, 2].map((i) => Math.round((i * third + 3 + Math.random() * Math.max(1, third - 10)) * 10) / 10);
  say(`phase 2: org run for ${PHASE_SECONDS} s, SIGKILL at +${kills.join(' s, +')} s, each restarted after 5 s`);
  const t0 = Date.now();
  const phase2Events = {};
  const add = (ev) => {
    for (const [k, v] of Object.entries(ev)) phase2Events[k] = (phase2Events[k] ?? 0) + v;
  };
  let daemon = startDaemon('phase2');
  for (const k of kills) {
    const wait = t0 + k * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    daemon.child.kill('SIGKILL');
    const e = await daemon.exited;
    add(daemon.events);
    say(`  killed org run at +${((Date.now() - t0) / 1000).toFixed(1)} s (${e.signal}); restarting in 5 s`);
    await sleep(5000);
    daemon = startDaemon('phase2');
  }
  const rest = t0 + PHASE_SECONDS * 1000 - Date.now();
  if (rest > 0) await sleep(rest);
  daemon.child.kill('SIGTERM');
  const e2 = await daemon.exited;
  add(daemon.events);
  checking = false;
  await loop;
  say(`phase 2 done: last org run ended (exit code ${e2.code}, signal ${e2.signal}) after SIGTERM; log events ${JSON.stringify(phase2Events)}`);

  console.log('\nAnswers per verdict (checker every second against the primary):');
  let bad = 0;
  for (const [p, counts] of Object.entries(answers)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const nonProtected = total - (counts.protected ?? 0);
    bad += nonProtected;
    console.log(`  ${p}: ${total} answers: ${Object.entries(counts).map(([v, n]) => `${v} ${n}`).join(', ') || 'none'}`);
  }
  for (const o of oddities.slice(0, 20)) console.log(`  ! ${o}`);
  console.log(`\nrenewals signed: phase 1 ${d1.events.signed ?? 0}, phase 2 ${phase2Events.signed ?? 0}; lapse warnings: ${(d1.events['lapse-warning'] ?? 0) + (phase2Events['lapse-warning'] ?? 0)}`);
  if (bad > 0 || (answers['phase 1'].protected ?? 0) === 0 || (answers['phase 2'].protected ?? 0) === 0) {
    console.log(`FAIL: ${bad} answer(s) other than protected${KEEP ? ` (logs in ${work})` : ''}`);
    exitCode = 1;
  } else console.log('PASS: every answer was protected');
} catch (err) {
  console.error(`renewal.mjs: ${err?.stack ?? err}`);
  exitCode = 2;
} finally {
  await cleanup();
}
process.exit(exitCode);
