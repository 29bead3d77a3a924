import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, requireChromium, screenshot, seriousAxeViolations, startServe, type Browser, type RunningServe } from '../helpers/browser.js';
import { verifyEvidenceBundle } from '../../src/evidence/index.js';
import { runCli } from '../helpers/cli.js';
import { ASSET, T0, startWorld, type World } from './fixtures.js';

// The Observatory page on the observe service's own store: `emblem observe` watches the asset from two vantage
// points over simulated windows (--start-at/--windows), the asset's records are removed from the zone (an injected
// removal), observe runs on, and `emblem serve --observe-config` shows the incident and the history.
let world: World;
let serve: RunningServe | null = null;
let browser: Browser | null = null;
let config = '';
let exportHref = '';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

before(async () => {
  if (!existsSync('/usr/bin/chromium') && process.env.CI !== 'true') return;
  world = await startWorld();
  config = join(world.dir, 'observe.yaml');
  writeFileSync(
    config,
    `targets:
  - ${ASSET}
vantagePoints:
  - { name: vp-a, resolver: "${world.resolver}" }
  - { name: vp-b, resolver: "${world.resolver}" }
windowSeconds: 10
database: sqlite:observatory.sqlite
evidenceDir: evidence
trustedKeys: [authority.pub.jwk]
skipCommitmentCheck: true
era: jws
queryTimeoutMs: 1000
`,
  );
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await world?.close();
});

test('observatory: an injected removal appears as an open incident, with the level history per vantage point and an evidence export link', { timeout: 180_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const env = { EMBLEM_CACHE_DIR: join(world.dir, 'cache') };
  const steady = await runCli(['observe', '--config', config, '--start-at', at(0), '--windows', '3'], { env, timeoutMs: 90_000 });
  assert.equal(steady.code, 0, steady.stderr);
  await world.removeAssetRecords();
  const injected = await runCli(['observe', '--config', config, '--start-at', at(30), '--windows', '3'], { env, timeoutMs: 90_000 });
  assert.equal(injected.code, 0, injected.stderr);
  assert.match(injected.stdout, /incident-opened/, injected.stdout);

  serve = await startServe(['--observe-config', config], env);
  assert.equal(serve.features.observatory, true);
  const { page } = browser!;
  await page.goto(`${serve.url}/observatory`);
  const incident = page.locator('table.incidents tbody tr').filter({ hasText: ASSET });
  await incident.first().waitFor({ timeout: 30_000 });
  const types = await page.locator('table.incidents tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
  assert.ok(types.includes('EMBLEM_MISSING'), JSON.stringify(types));
  assert.match(await incident.first().innerText(), /open/);
  assert.deepEqual(await seriousAxeViolations(page), []);

  // Deep link to the target (and incident): the history plot, one line per vantage point, down to no-emblem.
  await incident.first().getByRole('link', { name: ASSET }).click();
  await page.waitForURL(/\/observatory\?target=/);
  await page.locator('.plot svg').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.plot .series').count(), 2);
  assert.deepEqual(await page.locator('.legend-item').allInnerTexts(), ['vp-a', 'vp-b']);
  const points = await page.locator('.plot circle title').allTextContents();
  assert.ok(points.some((p) => /ENDORSED-TRUSTED/.test(p)), points.join('\n'));
  // The removal took the name's only records, so the name is gone (nxdomain); with other records left it is no-emblem.
  assert.ok(points.some((p) => /nxdomain|no-emblem/.test(p)), points.join('\n'));
  assert.deepEqual(await seriousAxeViolations(page), []);
  const shot = await screenshot(page, 'observatory-incident');

  // The export link names the target and the time of the last observation shown.
  const href = (await page.getByRole('link', { name: /Export evidence bundle/ }).getAttribute('href'))!;
  assert.match(href, new RegExp(`^/api/observatory/evidence\\?target=${ASSET.replace(/\./g, '\\.')}&at=2026-11-01T12%3A0`));
  exportHref = href;
  process.stderr.write(`screenshot: ${shot}\n`);
});

// The bundle comes from the observe run's own evidence log and database (both in observe.yaml).
test('observatory: the evidence export link downloads the bundle', { timeout: 60_000 }, async (t) => {
  if (!requireChromium(t) || !exportHref || !serve) return;
  const { page } = browser!;
  const direct = await page.request.get(`${serve.url}${exportHref}`);
  assert.equal(direct.status(), 200, await direct.text());
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Export evidence bundle/ }).click()]);
  const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { format: string; target: string; checkpoint: string; entries: Array<{ leafIndex: number }> };
  assert.equal(bundle.format, 'emblem-evidence-bundle/v1');
  assert.equal(bundle.target, ASSET);
  assert.ok(bundle.entries.length > 0, JSON.stringify(bundle).slice(0, 400));
  // The downloaded bundle verifies offline against the observer's key.
  const verified = await verifyEvidenceBundle(readFileSync((await download.path())!, 'utf8'), readFileSync(join(world.dir, 'evidence', 'observer.pub'), 'utf8'));
  assert.equal(verified.ok, true, JSON.stringify(verified.errors));
});
