import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalCa, issueBindingCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { createApiToken, launchBrowser, requireChromium, screenshot, seriousAxeViolations, startServe, type Browser, type RunningServe } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { tempDir } from '../dns/servers.js';
import { startKnotPrimary, type Primary } from '../org/primaries.js';

// The Organisation page on a real organisation folder publishing to Knot over RFC 2136 (as test/org does):
// assets, timeline and lint load; withdraw asks for the token, states what will happen, and removes the records.
const T0 = '2026-11-01T12:00:00Z';
const AN_HOUR_LATER = '2026-11-01T13:00:00Z';
let work: { path: string; remove(): void };
let ca: LocalCa;
let ctLog: RunningLocalCtLog;
let primary: Primary | null = null;
let serve: RunningServe | null = null;
let browser: Browser | null = null;
let token = '';
let ready = false;
const env = () => ({ EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: 'correct horse battery staple' });

function dig(port: number, name: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, 'TXT'], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

before(async () => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen && command -v /usr/bin/chromium'], { env: thirdPartyEnv() }).status !== 0) {
    if (process.env.CI === 'true') throw new Error('knot, tsig-keygen and chromium are installed by .ci/run');
    return;
  }
  work = tempDir('emblem-web-org-');
  ca = await createLocalCa();
  ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  writeFileSync(join(work.path, 'ca.pem'), ca.pem);
  primary = await startKnotPrimary();
  const dir = join(work.path, 'org');
  const zone = primary.zone;
  const init = await runCli(['org', 'init', '--dir', dir, '--org', `https://${zone}`, '--asset', `clinic.${zone}`, '--asset', `ward.${zone}`,
    '--publish', `rfc2136://127.0.0.1:${primary.port}/${zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work.path, 'ca.pem'),
    '--lifetime', '7d', '--ttl', '60', '--yes', '--json'], { env: env(), timeoutMs: 60_000 });
  assert.equal(init.code, 0, init.stderr);
  const { rootKid } = JSON.parse(init.stdout) as { rootKid: string };
  const logged = await issueBindingCertificate(ca, ctLog.url, { host: zone, kid: rootKid });
  writeFileSync(join(dir, 'chain.pem'), logged.chainPem);
  writeFileSync(join(dir, 'log.json'), JSON.stringify([logged.v1]));
  assert.equal((await runCli(['org', 'set-binding', '--dir', dir, '--chain', join(dir, 'chain.pem'), '--log', join(dir, 'log.json')], { env: env() })).code, 0);
  const applied = await runCli(['org', 'apply', '--dir', dir, '--at', T0, '--json'], { env: env(), timeoutMs: 60_000 });
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const created = await createApiToken(work.path);
  token = created.token;
  const tokens = created.file;
  serve = await startServe(['--org', dir, '--tokens', tokens, '--audit-log', join(work.path, 'audit.jsonl')], env());
  browser = await launchBrowser();
  ready = true;
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await primary?.stop();
  await ctLog?.close();
  work?.remove();
});

test('organisation: assets and lint load; withdraw states what will happen, needs the token, and removes the records from Knot', { timeout: 120_000 }, async (t) => {
  if (!requireChromium(t)) return;
  if (!ready) return t.skip('knot not installed');
  const { page } = browser!;
  const zone = primary!.zone;
  assert.match(dig(primary!.port, `clinic.${zone}`), /adem-token/, 'published before');
  // As of an hour after apply (?at=, as the CLI's --at): both assets published at the level Knot serves.
  await page.goto(`${serve!.url}/org?at=${encodeURIComponent(AN_HOUR_LATER)}`);
  const row = page.locator(`tr[data-asset="clinic.${zone}"]`);
  await row.waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('tbody tr').count(), 2);
  assert.match(await row.innerText(), /published/);
  assert.match(await row.innerText(), /ORGANIZATIONAL-UNTRUSTED/);
  assert.equal(await page.locator('.timeline svg').count(), 1);
  await page.locator('#lint-h ~ *').first().waitFor();
  assert.deepEqual(await seriousAxeViolations(page), []);

  // Select clinic; the dialog says what withdrawing means before anything happens.
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Withdraw selected (1)' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const words = await dialog.innerText();
  assert.match(words, new RegExp(`removes the emblem records of clinic\\.${zone.replace('.', '\\.')}`));
  assert.match(words, /stops renewing them/);
  assert.match(words, /resolver caches/);
  assert.deepEqual(await seriousAxeViolations(page), [], 'dialog');
  const dialogShot = await screenshot(page, 'org-withdraw-confirm');

  // Cancel changes nothing.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.match(dig(primary!.port, `clinic.${zone}`), /adem-token/);

  // Confirm without a token: refused (401) and said so; nothing removed.
  await page.getByRole('button', { name: 'Withdraw selected (1)' }).click();
  await dialog.getByRole('button', { name: 'Withdraw 1 asset(s)' }).click();
  await page.locator('[role="alert"]').filter({ hasText: 'AUTH_REQUIRED' }).waitFor({ timeout: 15_000 });
  assert.match(dig(primary!.port, `clinic.${zone}`), /adem-token/);

  await page.getByLabel(/API token/).fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Withdraw selected (1)' }).click();
  await dialog.getByRole('button', { name: 'Withdraw 1 asset(s)' }).click();
  const result = page.locator('[data-testid="withdraw-result"]');
  await result.waitFor({ timeout: 60_000 });
  assert.match(await result.innerText(), /Withdrawal done/);
  assert.match(await result.innerText(), /no emblem records left/);
  assert.equal(dig(primary!.port, `clinic.${zone}`).trim(), '', 'gone from Knot');
  assert.match(dig(primary!.port, `ward.${zone}`), /adem-token/, 'the other asset stays');
  await row.filter({ hasText: 'withdrawn' }).waitFor({ timeout: 15_000 });
  const shot = await screenshot(page, 'org-withdrawn');
  process.stderr.write(`screenshots: ${dialogShot} ${shot}\n`);
});
