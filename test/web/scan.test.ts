import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createApiToken, launchBrowser, requireChromium, screenshot, seriousAxeViolations, startServe, type Browser, type RunningServe } from '../helpers/browser.js';
import { ASSET, BROKEN, T0, startWorld, type World } from './fixtures.js';

// The Scan page: 1,000 names through emblem serve's scan jobs against the local zone, progress, then downloads.
let world: World;
let serve: RunningServe;
let browser: Browser;
let token: string;

before(async () => {
  if (!(await import('node:fs')).existsSync('/usr/bin/chromium') && process.env.CI !== 'true') return;
  world = await startWorld();
  const created = await createApiToken(world.dir);
  token = created.token;
  const tokens = created.file;
  serve = await startServe(['--tokens', tokens, '--resolver', world.resolver, ...world.ctFlags], { EMBLEM_CACHE_DIR: join(world.dir, 'cache') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await world?.close();
});

test('scan: upload 1,000 names, watch progress, download CSV and JSON lines', { timeout: 180_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  await page.goto(`${serve.url}/scan`);
  const names = world.scanNames(1000);
  // Upload the list as a file, as a user would.
  await page.getByLabel('or upload a list').setInputFiles({ name: 'names.txt', mimeType: 'text/plain', buffer: Buffer.from(`${names.join('\n')}\n`) });
  await page.getByLabel('As of (optional)').fill(T0);
  const submit = page.getByRole('button', { name: 'Scan 1000 names' });
  await submit.waitFor();

  // The token for write actions (kept in sessionStorage); the refusal without it is tested on the Organisation page.
  await page.getByLabel(/API token/).fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await submit.click();
  await page.waitForURL(/\/scan\?id=/, { timeout: 15_000 });
  // Progress is shown while it runs and ends at 1000 / 1000.
  const progress = page.locator('.progress-text');
  await progress.filter({ hasText: /\/ 1000/ }).waitFor({ timeout: 30_000 });
  await progress.filter({ hasText: '1000 / 1000 (done)' }).waitFor({ timeout: 150_000 });
  assert.equal(await page.locator('progress').getAttribute('value'), '1000');
  const count = async (status: string) => Number(await page.locator(`.count[data-status="${status}"]`).innerText());
  assert.equal(await count('protected'), 1);
  assert.equal(await count('invalid'), 1);
  assert.equal(await count('nxdomain'), 998);
  assert.deepEqual(await seriousAxeViolations(page), []);
  const shot = await screenshot(page, 'scan-done');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const csvLines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
  assert.equal(csvLines.length, 1001, 'header + 1000 rows');
  assert.match(csvLines[0]!, /^index,target,status,level/);
  assert.ok(csvLines.some((l) => l.includes(`${ASSET},protected,ENDORSED-UNTRUSTED`)), csvLines.slice(0, 4).join('\n'));
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download JSON lines' }).click()]);
  const rows = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { target?: string; status?: string });
  assert.equal(rows.length, 1000);
  assert.ok(JSON.stringify(rows).includes(BROKEN));
  assert.deepEqual(browser.problems.filter((p) => !p.includes('401')), []);
  process.stderr.write(`screenshot: ${shot}\n`);
});
