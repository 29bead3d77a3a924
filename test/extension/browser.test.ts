/// <reference types="chrome" />
/**
 * The extension in a real browser (issue 13, acceptance 3): Debian's Chromium loads dist/extension unpacked, the
 * options page is filled in (local DoH resolver, the demo authority pinned, verification time NOW), and pages of
 * prepared hosts are opened at http://HOST.hospital.example:PORT/ (--host-resolver-rules maps them to loopback).
 * The badge is read through chrome.action in the service worker, the popup from popup.html?tab=ID. Every request
 * the browser makes is recorded (Playwright's request events and Chromium's own net log, which also sees the
 * service worker's fetches) to show that nothing goes anywhere but the DoH resolver and the CT log. The chain's
 * root keys are committed in the project's local CT log as the demo does, and the extension checks them there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { seriousAxeViolations } from '../helpers/browser.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { NOW } from '../helpers/tokens.js';
import { buildFixture, type ExtensionFixture } from './fixtures.js';
import { startDohResolver, startPageServer, tempDir, type DohResolver, type LocalServer } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXTENSION = join(ROOT, 'dist', 'extension');
const CHROMIUM = '/usr/bin/chromium';
/** The log URL of the log list configured in the "log unreachable" test (nothing listens on the discard port). */
const UNREACHABLE_LOG = 'http://127.0.0.1:9/';

interface TabResult {
  tabId: number;
  state: string;
  badge: string;
  title: string;
  status: string | undefined;
  level: string | null | undefined;
}

describe('browser extension in Chromium', { skip: !existsSync(CHROMIUM) && process.env.CI !== 'true' ? 'no /usr/bin/chromium' : false }, () => {
  let fixture: ExtensionFixture;
  let doh: DohResolver;
  let pages: LocalServer;
  let context: BrowserContext;
  let worker: Worker;
  let extensionId: string;
  const dir = tempDir('emblem-ext-');
  const netLog = join(dir.path, 'netlog.json');
  const seen: string[] = [];

  before(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-extension.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    fixture = await buildFixture({ ctDir: dir.path });
    doh = await startDohResolver(dir.write('hospital.example.zone', fixture.zoneText), join(dir.path, 'stats.json'));
    pages = await startPageServer();
    context = await chromium.launchPersistentContext(join(dir.path, 'profile'), {
      executablePath: CHROMIUM,
      // headless: false plus --headless=new: the new headless mode, which (unlike the old one) loads extensions.
      headless: false,
      env: thirdPartyEnv(),
      args: [
        '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--disable-extensions-except=${EXTENSION}`, `--load-extension=${EXTENSION}`,
        '--host-resolver-rules=MAP *.hospital.example 127.0.0.1', `--log-net-log=${netLog}`,
      ],
    });
    context.on('request', (r) => seen.push(r.url()));
    worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
    extensionId = new URL(worker.url()).host;
  });

  after(async () => {
    await context?.close();
    await doh?.close();
    await pages?.close();
    await fixture?.ct?.close();
    dir.remove();
  });

  /** Opens a page of `host` and waits until the service worker has finished checking it. */
  async function visit(host: string): Promise<TabResult> {
    const page = await context.newPage();
    const url = `http://${host}:${pages.port}/`;
    // Tabs that showed this URL before (earlier tests) are not the answer for this visit.
    const before = await worker.evaluate(async () => Object.keys(await chrome.storage.session.get(null)));
    await page.goto(url);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await worker.evaluate(async ({ u, old }) => {
        const all = (await chrome.storage.session.get(null)) as Record<string, { url: string; state: string; result?: { status: string; level: string | null } }>;
        const entry = Object.entries(all).find(([k, v]) => !old.includes(k) && v.url === u && v.state !== 'checking');
        if (!entry) return null;
        const tabId = Number(entry[0].slice(4));
        return {
          tabId, state: entry[1].state, status: entry[1].result?.status, level: entry[1].result?.level,
          badge: await chrome.action.getBadgeText({ tabId }), title: await chrome.action.getTitle({ tabId }),
        };
      }, { u: url, old: before });
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no result for ${url}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** Opens the popup page for a tab; with `screenshot`, saves it under dist/test-artifacts/ (a test artifact). */
  async function popup(tabId: number, screenshot?: string): Promise<{ level: string; issuer: string; endorsers: string; commitment: string; chain: string; errors: string; chainNodes: string; ct: string; ctVerified: string }> {
    const page = await context.newPage();
    await page.goto(`chrome-extension://${extensionId}/popup.html?tab=${tabId}`);
    await page.waitForSelector('#level');
    if (screenshot) {
      await page.setViewportSize({ width: 440, height: 720 });
      await page.screenshot({ path: join(ROOT, 'dist', 'test-artifacts', `${screenshot}.png`), fullPage: true });
    }
    const text = async (sel: string) => ((await page.locator(sel).count()) ? (await page.locator(sel).innerText()).trim() : '');
    const out = {
      level: await text('#level'), issuer: await text('#issuer'), endorsers: await text('#endorsers'), commitment: await text('#commitment'),
      chain: await text('#chain'), errors: await text('#errors'), chainNodes: String(await page.locator('#chain > li').count()),
      ct: await text('#ct'), ctVerified: String(await page.locator('#ct > li[data-status="verified"]').count()),
    };
    await page.close();
    return out;
  }

  async function configure(commitments: 'check' | 'skip' | 'not-checked', pin: boolean, logList?: string): Promise<void> {
    const page = await context.newPage();
    await page.goto(`chrome-extension://${extensionId}/options.html`);
    await page.fill('#resolver', doh.url);
    await page.selectOption('#commitments', commitments);
    if (logList !== undefined) await page.fill('#log-list', logList);
    await page.fill('#at', NOW.toISOString());
    if (pin) {
      await page.fill('#import-text', JSON.stringify(fixture.authorityJwk));
      await page.fill('#import-name', 'demo authority');
      await page.click('#import');
      await page.waitForFunction(() => document.getElementById('trust-status')!.textContent!.startsWith('Pinned 1'));
      // Export gives the CLI's trust store format with the pinned key.
      await page.click('#export');
      const exported = JSON.parse(await page.inputValue('#import-text')) as { version: number; keys: Array<{ name: string; kid: string }> };
      assert.equal(exported.version, 1);
      assert.deepEqual(exported.keys.map((k) => [k.name, k.kid]), [['demo authority', fixture.kids.authority]]);
    }
    await page.click('#save');
    await page.waitForFunction(() => document.getElementById('saved')!.textContent!.startsWith('Saved'));
    await page.close();
  }

  it('checks nothing and sends nothing before a resolver is chosen', async () => {
    const r = await visit('clinic.hospital.example');
    assert.equal(r.state, 'off');
    assert.equal(r.badge, '');
    assert.match(r.title, /off/);
    assert.equal((await doh.stats()).requests, 0);
  });

  it('shows ENDORSED-TRUSTED for the demo chain with the authority pinned, its CT commitments verified in the local log', async () => {
    await configure('check', true, fixture.ct!.logListText);
    const r = await visit('clinic.hospital.example');
    assert.equal(r.status, 'protected');
    assert.equal(r.level, 'ENDORSED-TRUSTED');
    assert.equal(r.badge, 'END');
    assert.match(r.title, /ENDORSED-TRUSTED/);
    const p = await popup(r.tabId, 'extension-popup-endorsed-trusted');
    assert.equal(p.level, 'ENDORSED-TRUSTED');
    assert.equal(p.issuer, 'https://hospital.example');
    assert.equal(p.endorsers, 'https://authority.example');
    assert.equal(p.chainNodes, '3');
    for (const kid of Object.values(fixture.kids)) assert.ok(p.chain.includes(kid), `chain shows kid ${kid}`);
    assert.match(p.commitment, /^verified in Certificate Transparency/);
    assert.match(p.commitment, /chain not checked/);
    // Two endorsements carry an RFC 6962 and a static-ct pointer each: four entries, each with the log's name and index.
    assert.equal(p.ctVerified, '4', p.ct);
    assert.match(p.ct, /verified Emblem demo CT log entry #\d+ of \d+ \(RFC 6962\)/);
    assert.match(p.ct, /verified Emblem demo CT log entry #\d+ of \d+ \(static-ct tiles\)/);
  });

  it('shows a CT commitment it could not check (log list imported, log unreachable) as not checked, never as invalid', async () => {
    const list = JSON.parse(fixture.ct!.logListText) as { operators: Array<{ logs?: Array<{ url: string }>; tiled_logs?: Array<{ monitoring_url: string }> }> };
    for (const op of list.operators) {
      for (const l of op.logs ?? []) l.url = UNREACHABLE_LOG;
      for (const l of op.tiled_logs ?? []) l.monitoring_url = UNREACHABLE_LOG;
    }
    await configure('check', false, JSON.stringify(list)); // the authority stays pinned from the test above
    const r = await visit('clinic.hospital.example');
    assert.deepEqual([r.status, r.level, r.badge], ['indeterminate', 'SIGNED-UNTRUSTED', 'SIG?']);
    const p = await popup(r.tabId);
    assert.equal(p.commitment, 'not checked');
    assert.match(p.ct, /not checked Emblem demo CT log/);
    assert.doesNotMatch(p.ct, /FAILED/);
    await configure('check', false, fixture.ct!.logListText);
  });

  it('shows SIGNED-UNTRUSTED, INVALID and no emblem for the prepared hosts', async () => {
    const signed = await visit('signed.hospital.example');
    assert.deepEqual([signed.status, signed.level, signed.badge], ['protected', 'SIGNED-UNTRUSTED', 'SIG']);
    assert.equal((await popup(signed.tabId)).level, 'SIGNED-UNTRUSTED');

    const invalid = await visit('invalid.hospital.example');
    assert.equal(invalid.status, 'invalid');
    assert.equal(invalid.badge, 'INV');
    const p = await popup(invalid.tabId, 'extension-popup-invalid');
    assert.equal(p.level, 'INVALID');
    assert.match(p.errors, /SIGNATURE_INVALID/);

    const plain = await visit('plain.hospital.example');
    assert.equal(plain.status, 'no-emblem');
    assert.equal(plain.badge, '');
    assert.match(plain.title, /no emblem/);
    assert.equal((await popup(plain.tabId)).level, 'NO EMBLEM');
  });

  it('shows an unchecked CT commitment as not checked, never as invalid', async () => {
    await configure('not-checked', false);
    const r = await visit('clinic.hospital.example');
    assert.equal(r.status, 'indeterminate');
    assert.equal(r.level, 'SIGNED-UNTRUSTED');
    assert.equal(r.badge, 'SIG?');
    const p = await popup(r.tabId);
    assert.equal(p.commitment, 'not checked');
    assert.doesNotMatch(p.level, /INVALID/);
  });

  it('axe finds no serious or critical violation on the options page and the popup (endorsed, invalid, no emblem)', async () => {
    await configure('skip', false); // the authority stays pinned from the test above
    const violations: Record<string, string[]> = {};
    const options = await context.newPage();
    await options.goto(`chrome-extension://${extensionId}/options.html`);
    await options.waitForFunction(() => (document.getElementById('resolver') as HTMLInputElement).value !== '');
    violations.options = await seriousAxeViolations(options);
    await options.close();
    for (const host of ['clinic', 'invalid', 'plain']) {
      const r = await visit(`${host}.hospital.example`);
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/popup.html?tab=${r.tabId}`);
      await page.waitForSelector('#level');
      violations[`popup ${host}`] = await seriousAxeViolations(page);
      await page.close();
    }
    assert.deepEqual(violations, { options: [], 'popup clinic': [], 'popup invalid': [], 'popup plain': [] });
  });

  it('sends requests only to the DoH resolver and the CT log (and the pages themselves)', async () => {
    const stats = await doh.stats();
    assert.ok(stats.get >= 5, `the resolver was asked (${JSON.stringify(stats)})`);
    assert.deepEqual([stats.post, stats.rejected], [0, 0], 'only RFC 8484 GETs, all answered');
    const pageOrigin = (u: string) => /^http:\/\/[a-z]+\.hospital\.example:\d+\//.test(u) && new URL(u).port === String(pages.port);
    // The configured CT logs: the local log, and the unreachable one a test configured for a while.
    const ctLog = fixture.ct!.logUrl;
    const toCtLog = (u: string) => u.startsWith(ctLog) || u.startsWith(UNREACHABLE_LOG);
    const allowed = (u: string) => u.startsWith(`chrome-extension://${extensionId}/`) || u.startsWith(doh.url) || toCtLog(u) || pageOrigin(u) || u === 'about:blank';
    assert.deepEqual(seen.filter((u) => !allowed(u)), []);
    // Chromium's net log sees every URL request of the browser, the service worker's fetches included.
    await context.close();
    const log = JSON.parse(readFileSync(netLog, 'utf8')) as { constants: { logEventTypes: Record<string, number> }; events: Array<{ type: number; params?: { url?: string; initiator?: string } }> };
    const start = log.constants.logEventTypes.URL_REQUEST_START_JOB;
    const jobs = log.events.filter((e) => e.type === start && e.params?.url).map((e) => ({ url: e.params!.url!, initiator: e.params!.initiator ?? '' }));
    const fromExtension = jobs.filter((j) => j.initiator === `chrome-extension://${extensionId}`);
    assert.ok(fromExtension.length >= 5, 'the net log shows the service worker asking the resolver');
    assert.deepEqual(fromExtension.filter((j) => !j.url.startsWith(doh.url) && !toCtLog(j.url)), [], 'the extension asks the resolver and the configured CT logs, nothing else');
    const ctPaths = new Set(fromExtension.filter((j) => j.url.startsWith(ctLog)).map((j) => new URL(j.url).pathname.replace(/\/\d+$/, '').replace(/\/[0-9x/.]+$/, '')));
    assert.ok(ctPaths.has('/ct/v1/get-sth') && ctPaths.has('/ct/v1/get-proof-by-hash') && ctPaths.has('/ct/v1/get-entries'), `RFC 6962 API asked: ${[...ctPaths].join(' ')}`);
    assert.ok([...ctPaths].some((p) => p.endsWith('/checkpoint')), `static-ct checkpoint asked: ${[...ctPaths].join(' ')}`);
    // Chromium's own services (component updater, account and spelling-dictionary fetches, initiator "not an
    // origin") run despite the flags; they are the browser's, never carry the visited names, and are listed here
    // so any other destination fails the test.
    const browserOwn = (j: { url: string; initiator: string }) => j.initiator === 'not an origin' && /^https?:\/\/([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)\//.test(j.url);
    assert.deepEqual(jobs.filter((j) => browserOwn(j) && j.url.includes('hospital')), []);
    assert.deepEqual(jobs.filter((j) => !allowed(j.url) && !browserOwn(j)), []);
  });
});
