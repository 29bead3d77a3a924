import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalCa, issueBindingCertificate, issueLoggedCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { createApiToken, launchBrowser, requireChromium, screenshot, seriousAxeViolations, startServe, type Browser, type RunningServe } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

// The Authority page on a real authority folder: an organisation's endorsement request is reviewed (summary and
// findings from the API), granted with the API token, and appears in the registry.
const AUTHORITY = 'https://authority.example';
const ZONE = 'hospital.example';
let work: { path: string; remove(): void };
let ca: LocalCa;
let ctLog: RunningLocalCtLog;
let serve: RunningServe | null = null;
let browser: Browser | null = null;
let token = '';
let requestText = '';
let rootKid = '';
const env = () => ({ EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: 'correct horse battery staple' });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

before(async () => {
  if (!existsSync('/usr/bin/chromium') && process.env.CI !== 'true') return;
  work = tempDir('emblem-web-authority-');
  ca = await createLocalCa();
  ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  const caFile = join(work.path, 'ca.pem');
  writeFileSync(caFile, ca.pem);
  const orgDir = join(work.path, 'org');
  const init = await cli(['org', 'init', '--dir', orgDir, '--org', `https://${ZONE}`, '--asset', `clinic.${ZONE}`, '--publish', `zonefile:${join(work.path, 'org.zone')}`,
    '--servers', '127.0.0.1:9', '--ct-log-list', ctLog.logListUrl, '--ca-bundle', caFile, '--yes', '--json']);
  assert.equal(init.code, 0, init.stderr);
  rootKid = (JSON.parse(init.stdout) as { rootKid: string }).rootKid;
  const orgCert = await issueBindingCertificate(ca, ctLog.url, { host: ZONE, kid: rootKid });
  writeFileSync(join(orgDir, 'chain.pem'), orgCert.chainPem);
  writeFileSync(join(orgDir, 'log.json'), JSON.stringify([orgCert.v1]));
  assert.equal((await cli(['org', 'set-binding', '--dir', orgDir, '--chain', join(orgDir, 'chain.pem'), '--log', join(orgDir, 'log.json')])).code, 0);

  const authDir = join(work.path, 'authority');
  const ai = await cli(['authority', 'init', '--dir', authDir, '--authority', AUTHORITY, '--ct-log-list', ctLog.logListUrl, '--ca-bundle', caFile, '--yes', '--json']);
  assert.equal(ai.code, 0, ai.stderr);
  const { bindingNames } = JSON.parse(ai.stdout) as { bindingNames: string[] };
  const authCert = await issueLoggedCertificate(ca, ctLog.url, { dnsNames: bindingNames });
  writeFileSync(join(authDir, 'chain.pem'), authCert.chainPem);
  writeFileSync(join(authDir, 'log.json'), JSON.stringify([authCert.v1]));
  assert.equal((await cli(['authority', 'set-binding', '--dir', authDir, '--chain', join(authDir, 'chain.pem'), '--log', join(authDir, 'log.json')])).code, 0);

  const req = join(work.path, 'request.json');
  const made = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--constrain-asset', `clinic.${ZONE}`, '--constrain-purpose', 'protective', '--out', req]);
  assert.equal(made.code, 0, made.stderr);
  requestText = readFileSync(req, 'utf8');

  const created = await createApiToken(work.path);
  token = created.token;
  serve = await startServe(['--authority', authDir, '--tokens', created.file], env());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await ctLog?.close();
  work?.remove();
});

test('authority: review a request (summary, findings), grant it with the API token, see it in the registry', { timeout: 120_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser!;
  await page.goto(`${serve!.url}/authority`);
  await page.locator('#reg-h ~ p, #reg-h ~ table').first().waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('[data-id]').count(), 0, 'empty registry');
  assert.deepEqual(await seriousAxeViolations(page), []);

  await page.getByLabel('Endorsement request (JSON)').fill(requestText);
  await page.getByRole('button', { name: 'Review' }).click();
  const review = page.locator('.review');
  await review.waitFor({ timeout: 30_000 });
  const summary = await review.innerText();
  assert.match(summary, new RegExp(`https://${ZONE.replace('.', '\\.')}`));
  assert.ok(summary.includes(rootKid), 'the root key\'s kid');
  assert.match(summary, /PROOF_OK/);
  assert.match(summary, /COMMITMENT_VERIFIED/);
  assert.match(String(await review.getAttribute('data-verdict')), /^(ok|warnings)$/);
  assert.deepEqual(await seriousAxeViolations(page), []);

  await page.getByLabel(/API token/).fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  if ((await review.getAttribute('data-verdict')) === 'warnings') await page.getByLabel(/Accept the warnings/).check();
  await page.getByRole('button', { name: /Grant endorsement/ }).click();
  await page.locator('.granted').waitFor({ timeout: 30_000 });
  const row = page.locator('#reg-h ~ table [data-id]');
  await row.first().waitFor({ timeout: 15_000 });
  assert.match(await row.first().innerText(), new RegExp(`https://${ZONE.replace('.', '\\.')}`));
  assert.ok((await row.first().innerText()).includes(rootKid));
  const shot = await screenshot(page, 'authority-granted');
  process.stderr.write(`screenshot: ${shot}\n`);
});
