#!/usr/bin/env node
// Issue 12, acceptance 1: `emblem observe` in real time on loopback (about 6.5 minutes; not part of `npm test`).
//
//   npm run build && node scripts/acceptance/observe.mjs [--names 1000] [--steady-seconds 300] [--window 10] [--keep]
//
// A zone with --names marked names (obs.test) served by `emblem dns serve` and by Knot as a second vantage point,
// a local CT log watched for org.example's adem-configuration names, a webhook receiver that checks every HMAC.
// `emblem observe` runs with --window-second windows on the wall clock. After --steady-seconds with zero incidents
// expected, it injects, each on a different name: a removed emblem, an expiring one (lapses on its own), one
// re-signed with an unendorsed key, a different token set at Knot only, and a certificate for
// adem-configuration.org.example in the CT log. Each must give exactly one incident of the right type within three
// windows and exactly one webhook delivery with a valid HMAC. Exits 1 on any difference.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
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
const NAMES = Number(arg('--names', '1000'));
const STEADY = Number(arg('--steady-seconds', '300'));
const WINDOW = Number(arg('--window', '10'));
const KEEP = process.argv.includes('--keep');
const SECRET = 'acceptance-webhook-secret';

const { buildObserveWorld, ORIGIN } = await import(join(root, 'test/observatory/world.ts'));
const { startEmblemServer, startKnot } = await import(join(root, 'test/dns/servers.ts'));
const { verifyWebhookSignature } = await import(join(root, 'src/observatory/alerts/webhook.ts'));
const { createLocalCa, issueBindingCertificate } = await import(join(root, 'src/ct/local-ca.ts'));
const { startLocalCtLog } = await import(join(root, 'src/ct/local-log/start-local-ct-log.ts'));

const dir = mkdtempSync(join(tmpdir(), 'emblem-observe-acceptance-'));
const log = (...a) => console.log(new Date().toISOString(), ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let emblem, knot, ctLog, observe, receiver;
let failed = false;

async function cleanup() {
  if (observe && observe.exitCode === null) {
    observe.kill('SIGTERM');
    await once(observe, 'exit');
  }
  await emblem?.stop();
  await knot?.stop();
  await ctLog?.close();
  receiver?.close();
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
  else log('kept', dir);
}

try {
  const start = new Date();
  // The expiring emblem lapses one window after the injections (so it also lands within three windows of them).
  const expiresAt = start.getTime() + (STEADY + 20 + WINDOW) * 1000;
  const world = await buildObserveWorld(NAMES - 4, start, STEADY + 20 + WINDOW);
  world.write(join(dir, 'emblem.zone'), 'steady', 1);
  world.write(join(dir, 'knot.zone'), 'steady', 1);
  writeFileSync(join(dir, 'authority.jwk'), JSON.stringify(world.authorityJwk));
  writeFileSync(join(dir, 'targets.txt'), `${world.steady.join('\n')}\n`);
  // One client asking a lot from one address: rate limiting and the per-address TCP limit (meant for the Internet)
  // are lifted, as for scans. The TXT answers exceed 512 bytes, so every lookup also uses TCP.
  emblem = await startEmblemServer([join(dir, 'emblem.zone')], ['--rrl-responses-per-second', '0', '--tcp-max-per-address', '0']);
  knot = await startKnot([{ origin: ORIGIN, file: join(dir, 'knot.zone') }]);
  const ca = await createLocalCa();
  ctLog = await startLocalCtLog({ roots: [ca.certificate], batchMs: 100 });
  const list = await (await fetch(ctLog.logListUrl)).json();
  const ctKey = list.operators[0].logs[0].key;

  const deliveries = [];
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      deliveries.push({ id: req.headers['x-emblem-delivery'], valid: verifyWebhookSignature(SECRET, raw, req.headers['x-emblem-signature']), body: JSON.parse(raw) });
      res.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');

  const writeConfig = (knotPort) =>
    writeFileSync(
      join(dir, 'observe.yaml'),
      `targetsFile: targets.txt
vantagePoints:
  - { name: emblem, resolver: "127.0.0.1:${emblem.port}" }
  - { name: knot, resolver: "127.0.0.1:${knotPort}" }
windowSeconds: ${WINDOW}
database: sqlite:state.sqlite
evidenceDir: evidence
webhooks: [{ url: "http://127.0.0.1:${receiver.address().port}/hook", secret: "${SECRET}" }]
trustedKeys: [authority.jwk]
skipCommitmentCheck: true
era: jws
concurrency: 32
queryTimeoutMs: 3000
ct:
  organizations: [{ name: org.example, known: [] }]
  logs: [{ url: "${ctLog.url}", kind: rfc6962, publicKey: "${ctKey}" }]
`,
    );
  let windows = 0;
  let errorsSeen = 0;
  const startObserve = () => {
    const child = spawn(process.execPath, [CLI, 'observe', '--config', join(dir, 'observe.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (line.event === 'window') {
          errorsSeen += line.errors;
          windows++;
          if (windows % 6 === 0 || line.opened) log(`window ${windows}: ${line.targets} targets, ${line.observations} observations, ${line.errors} errors, opened ${line.opened}`);
        } else if (String(line.event).startsWith('incident')) log(line.event, line.type, line.target, line.detail);
      }
    });
    return child;
  };
  const incidents = async () => {
    const child = spawn(process.execPath, [CLI, 'observe', 'incidents', '--config', join(dir, 'observe.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await once(child, 'exit');
    return JSON.parse(out).incidents;
  };

  writeConfig(knot.port);
  observe = startObserve();
  log(`steady state: ${NAMES} names, 2 vantage points, ${WINDOW} s windows, ${STEADY} s`);
  await sleep(STEADY * 1000);
  const steady = await incidents();
  log(`steady state over: ${windows} windows, ${errorsSeen} error observations (timeouts), ${steady.length} incidents`, steady.length ? JSON.stringify(steady) : '');
  if (steady.length !== 0) failed = true;

  // Inject. Knot restarts on a new port with the injected zone (plus a different token set for one name), so the
  // service restarts with the new port (its state is in the database); the emblem server reloads on SIGHUP.
  observe.kill('SIGTERM');
  await once(observe, 'exit');
  world.write(join(dir, 'emblem.zone'), 'injected', 2);
  emblem.child.kill('SIGHUP');
  await knot.stop();
  world.write(join(dir, 'knot-b.zone'), 'injected-b', 2);
  knot = await startKnot([{ origin: ORIGIN, file: join(dir, 'knot-b.zone') }]);
  await issueBindingCertificate(ca, ctLog.url, { host: 'org.example', kid: 'unexpected' });
  writeConfig(knot.port);
  const injectedAt = Date.now();
  log('injected: removed', world.names.removed, '| re-signed', world.names.resigned, '| inconsistent', world.names.inconsistent, '| expiring', world.names.expiring, '| CT certificate for org.example');
  observe = startObserve();
  // The expiring name is due within three windows of its own lapse (which falls shortly after the injections).
  await sleep(Math.max(injectedAt, expiresAt) + 3 * WINDOW * 1000 + 5000 - Date.now());
  const after = await incidents();
  const got = after.map((i) => `${i.type} ${i.target}`).sort();
  const want = [
    `CT_UNEXPECTED_CERTIFICATE org.example`,
    `EMBLEM_MISSING ${world.names.removed}`,
    `INCONSISTENT ${world.names.inconsistent}`,
    `LEVEL_DROPPED ${world.names.expiring}`,
    `LEVEL_DROPPED ${world.names.resigned}`,
  ].sort();
  const due = (i) => (i.target === world.names.expiring ? Math.max(expiresAt, injectedAt) : injectedAt);
  log('incidents:', JSON.stringify(after.map((i) => ({ type: i.type, target: i.target, opened: i.opened, secondsAfterCause: Math.round((Date.parse(i.opened) - due(i)) / 1000) }))));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    failed = true;
    log('MISMATCH: expected', JSON.stringify(want));
  }
  const late = after.filter((i) => Date.parse(i.opened) - due(i) > 3 * WINDOW * 1000 + 2000);
  if (late.length) {
    failed = true;
    log('LATE (more than three windows):', JSON.stringify(late));
  }
  await sleep(2000);
  const opened = deliveries.filter((d) => d.body.event.event === 'incident-opened');
  log(`webhook: ${deliveries.length} deliveries, ${opened.length} incident-opened, valid HMAC ${deliveries.filter((d) => d.valid).length}/${deliveries.length}, distinct ids ${new Set(deliveries.map((d) => d.id)).size}`);
  if (opened.length !== want.length || deliveries.some((d) => !d.valid) || new Set(deliveries.map((d) => d.id)).size !== deliveries.length) failed = true;
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await cleanup();
}
log(failed ? 'FAILED' : 'PASSED');
process.exit(failed ? 1 : 0);
