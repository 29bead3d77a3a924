#!/usr/bin/env node
// Issue 13, acceptance 1: `emblem serve` on the demo's folder shows the demo's chain on the Check page, with the
// levels `emblem verify --json` reports (run by hand; about a minute).
//
//   npm run build && node scripts/acceptance/dashboard-demo.mjs [--keep]
//
// Runs `npm start -- --keep` (the demo: keys, local CA, local CT log, token sets in a temp folder), restarts the
// demo's CT log from its folder (`emblem ct serve`), runs `emblem verify --json` on the demo's JWS set with the
// authority pinned, starts `emblem serve` with the same log list, CA and pinned key, pastes the set into the
// Check page in Debian's chromium and compares the page's level with the CLI's. Screenshot:
// test-artifacts/acceptance-demo-check.png. Exits 1 when they differ.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(root, 'dist/cli/main.js');
const keep = process.argv.includes('--keep');
const children = [];

function firstLine(child, match) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('timed out waiting for a start line')), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => match.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

const demo = spawnSync(process.execPath, [join(root, 'dist/demo/main.js'), '--keep'], { encoding: 'utf8', timeout: 180_000 });
const dir = /The files are kept in (\S+)\./.exec(demo.stdout)?.[1];
if (demo.status !== 0 || !dir) {
  console.error(`demo failed:\n${demo.stdout}\n${demo.stderr}`);
  process.exit(1);
}
console.log(`demo folder: ${dir}`);
let browser;
try {
  const ct = spawn(process.execPath, [CLI, 'ct', 'serve', '--listen', '127.0.0.1:0', '--roots', join(dir, 'ca.pem'), '--state', join(dir, 'ct-log')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(ct);
  const { logListUrl } = await firstLine(ct, /logListUrl/);
  const flags = ['--log-list', logListUrl, '--ca-bundle', join(dir, 'ca.pem'), '--trusted-key', join(dir, 'authority.pub.jwk')];
  const env = { ...process.env, EMBLEM_CACHE_DIR: join(dir, 'cache') };
  const cli = JSON.parse(spawnSync(process.execPath, [CLI, 'verify', '--json', ...flags, join(dir, 'jws-set.txt')], { encoding: 'utf8', env }).stdout);
  console.log(`emblem verify --json: result ${cli.result.join(' + ')}, levels ${cli.levels.join(', ')}, commitment ${cli.commitment}`);

  const serve = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.push(serve);
  const { url } = await firstLine(serve, /"listening"/);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${url}/check`);
  await page.getByLabel('Pasted tokens').check();
  await page.getByLabel(/Token set/).fill(readFileSync(join(dir, 'jws-set.txt'), 'utf8'));
  await page.getByRole('button', { name: 'Check' }).click();
  await page.locator('.result').waitFor({ timeout: 60_000 });
  const badges = await page.locator('.set .kv dd').first().locator('.badge').allInnerTexts();
  const chain = await page.locator('.chain').innerText();
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  const shot = join(root, 'test-artifacts', 'acceptance-demo-check.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`dashboard: result ${badges.join(' + ')}; chain:\n  ${chain.split('\n').join('\n  ')}`);
  console.log(`screenshot: ${shot}`);
  const same = JSON.stringify(badges) === JSON.stringify(cli.result);
  console.log(same ? 'OK: the Check page shows the levels emblem verify --json reports' : 'MISMATCH');
  process.exitCode = same ? 0 : 1;
} finally {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
