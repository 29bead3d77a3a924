import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { launchBrowser, requireChromium, screenshot, seriousAxeViolations, startServe, type Browser, type RunningServe } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { ASSET, BROKEN, T0, startWorld, type World } from './fixtures.js';

// The Check page against real services: emblem serve -> emblem dns serve (the zone) -> the local CT log.
let world: World;
let serve: RunningServe;
let offline: RunningServe;
let browser: Browser;
const shots: string[] = [];

before(async () => {
  if (!(await import('node:fs')).existsSync('/usr/bin/chromium') && process.env.CI !== 'true') return;
  world = await startWorld();
  const env = { EMBLEM_CACHE_DIR: join(world.dir, 'cache') };
  serve = await startServe(['--trusted-key', world.authorityKeyFile, ...world.ctFlags], env);
  // The same, but its CT log list is on a port nobody listens on: commitments cannot be checked.
  offline = await startServe(['--trusted-key', world.authorityKeyFile, '--log-list', 'http://127.0.0.1:9/log_list.json', '--ca-bundle', world.caFile], { EMBLEM_CACHE_DIR: join(world.dir, 'cache-offline') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await offline?.stop();
  await world?.close();
  if (shots.length) process.stderr.write(`screenshots: ${shots.join(' ')}\n`);
});

const deepLink = (base: string, name: string) => `${base}/check?name=${encodeURIComponent(name)}&resolver=${encodeURIComponent(world.resolver)}&at=${encodeURIComponent(T0)}`;

test('check: a deep link shows the demo chain ENDORSED-TRUSTED, with the levels emblem verify --json reports', async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  await page.goto(deepLink(serve.url, ASSET));
  const result = page.locator('.result[data-status="protected"]');
  await result.waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.headline').innerText(), /Protected/);
  assert.match(await page.locator('.headline').innerText(), /ENDORSED-TRUSTED/);

  // The chain: emblem -> emblem key -> root key -> authority, each with its kid and level.
  const nodes = page.locator('.set .chain > li');
  assert.equal(await nodes.count(), 4);
  const text = await page.locator('.set .chain').innerText();
  assert.ok(text.includes(world.kids.emblem), 'emblem key kid shown');
  assert.ok(text.includes(world.kids.root), 'root key kid shown');
  assert.match(text, /Authority https:\/\/authority\.example/);
  // The API is asked for the set's token texts (?tokens=true), so a name check draws what pasted tokens draw: the
  // authority's kid and each endorsement's window and CT log entries.
  assert.ok(text.includes(world.kids.authority), 'authority kid shown');
  assert.match(text, /index \d+|leaf hash/, 'the CT log entries of the commitments');
  // Log IDs are named after the server's log list (GET /api/ct/logs); the name appears once the list is fetched.
  await page.locator('.set .chain .log-name').first().waitFor({ timeout: 10_000 });
  assert.match(await page.locator('.set .chain .log-name').first().innerText(), /Emblem (demo|local) CT log/);
  assert.match(text, /ORGANIZATIONAL: reached/);
  assert.match(text, /ENDORSED: reached/);
  assert.match(text, /CT commitment\s+verified/);

  // The same levels as the CLI on the same set, time and trust.
  const cli = await runCli(['verify', '--json', '--at', T0, '--trusted-key', world.authorityKeyFile, ...world.ctFlags, world.setFile], { env: { EMBLEM_CACHE_DIR: join(world.dir, 'cache-cli') } });
  const report = JSON.parse(cli.stdout) as { result: string[]; levels: string[] };
  assert.deepEqual(report.result, ['ENDORSED-TRUSTED']);
  const badges = await page.locator('.set .kv dd').first().locator('.badge').allInnerTexts();
  assert.deepEqual(badges, report.result);
  assert.match(await page.locator('.set .kv dd').first().innerText(), new RegExp(`levels: ${report.levels.join(', ')}`));

  // Copyable JSON: the page shows the API's report.
  await page.locator('details.json summary').click();
  const json = JSON.parse(await page.locator('details.json pre').innerText()) as { status: string; target: string };
  assert.equal(json.status, 'protected');
  assert.equal(json.target, ASSET);

  assert.deepEqual(await seriousAxeViolations(page), []);
  shots.push(await screenshot(page, 'check-endorsed'));
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.deepEqual(await seriousAxeViolations(page), [], 'dark mode');
  shots.push(await screenshot(page, 'check-endorsed-dark'));
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(browser.problems, []);
});

test('check: the first load of the dashboard transfers under 200 KB (compressed), with no inline script or style', async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  // Measure a cold load: the earlier tests filled the HTTP cache.
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(`${serve.url}/check`, { waitUntil: 'load' });
  await page.locator('#check-h').waitFor();
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.detach();
  const bytes = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .filter((e) => !(e as PerformanceResourceTiming).name.includes('/api/'))
      .reduce((s, e) => s + (e as PerformanceResourceTiming).transferSize, 0),
  );
  process.stderr.write(`dashboard first load: ${bytes} bytes transferred\n`);
  assert.ok(bytes > 0 && bytes < 200 * 1024, `${bytes} bytes`);
  assert.equal(await page.locator('script:not([src]), style, [style]').count(), 0);
});

test('check: a set whose emblem signature was altered is INVALID, with the reason and its code', async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  await page.goto(deepLink(serve.url, BROKEN));
  await page.locator('.result[data-status="invalid"]').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.headline').innerText(), /Invalid: the emblem records here do not verify/);
  const reasons = await page.locator('.set .errors').innerText();
  assert.match(reasons, /SIGNATURE_INVALID|TOKEN_MALFORMED|NO_VALID_EMBLEM/, reasons);
  assert.match(await page.locator('.set .chain').innerText(), /SIGNED: failed/);
  assert.deepEqual(await seriousAxeViolations(page), []);
  shots.push(await screenshot(page, 'check-invalid'));
});

test('check: with the CT log unreachable the result is indeterminate, never invalid', async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  await page.goto(deepLink(offline.url, ASSET));
  await page.locator('.result[data-status="indeterminate"]').waitFor({ timeout: 60_000 });
  const head = await page.locator('.headline').innerText();
  assert.match(head, /Indeterminate/);
  assert.match(head, /SIGNED-TRUSTED|SIGNED-UNTRUSTED/);
  const text = await page.locator('.set').innerText();
  assert.match(text, /ORGANIZATIONAL: not established/);
  assert.match(text, /could not be checked/);
  assert.deepEqual(await seriousAxeViolations(page), []);
  shots.push(await screenshot(page, 'check-indeterminate'));
});

test('check: pasted tokens are verified by the server and drawn with their CT log entries', async (t) => {
  if (!requireChromium(t)) return;
  const { page } = browser;
  await page.goto(`${serve.url}/check`);
  await page.getByLabel('Pasted tokens').check();
  await page.getByLabel(/Token set/).fill(world.setText);
  await page.getByLabel(/As of/).fill(T0);
  await page.getByRole('button', { name: 'Check' }).click();
  await page.locator('.result[data-status="valid"]').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.headline').innerText(), /Verifies at ENDORSED-TRUSTED/);
  const chain = await page.locator('.chain').innerText();
  assert.match(chain, /index \d+/, 'static-ct index of the root key commitment');
  assert.match(chain, /leaf hash/);
  assert.match(chain, /valid 2026-10-31 12:00Z → 2026-12-01 12:00Z/);
  shots.push(await screenshot(page, 'check-pasted'));
});
