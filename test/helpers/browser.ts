/**
 * A real browser for dashboard tests: Debian's chromium driven by playwright-core (no browser download), one per
 * test file, each with a fresh profile in a temp dir; plus `emblem serve` as a child process and the axe check.
 * Screenshots go to test-artifacts/ (git-ignored; CI keeps it as an artifact).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { startListening } from '../server/helpers.js';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { thirdPartyEnv } from './third-party.js';

export const CHROMIUM = process.env.EMBLEM_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** On CI (CI=true) a missing chromium fails the test; elsewhere the test is skipped. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is not installed (CI installs chromium via .ci/run)`);
  t.skip(`${CHROMIUM} not installed`);
  return false;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and failed requests the page produced (a CSP violation shows up here). */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Starts chromium headless with a fresh profile. No network beyond loopback is needed: every test server binds
 * 127.0.0.1, and background services (updates, sync, QUIC probes) are off so nothing else is contacted.
 */
export async function launchBrowser(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'emblem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    env: thirdPartyEnv() as Record<string, string>,
    viewport: { width: 1200, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Serious or critical axe violations of the page as it is now (WCAG 2.x A/AA rules), as readable lines. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

export interface RunningServe {
  url: string;
  features: Record<string, boolean>;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `emblem serve --listen 127.0.0.1:0 ARGS` and waits for its "listening" line (a page test may wait 60 s). */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<RunningServe> {
  const s = await startListening<{ url: string; features: Record<string, boolean> }>(['serve', '--listen', '127.0.0.1:0', '--rate-limit', '0', ...args], env, 60_000);
  return { ...s.listening, child: s.child, stderr: s.stderr, stop: s.stop };
}

/**
 * Creates an API token for write actions (`emblem serve token create --json`) in DIR/emblem/api-tokens.json and
 * returns it with that file's path (pass it to `emblem serve --tokens`). The file is chosen through
 * XDG_CONFIG_HOME: `serve`'s own --tokens and --json options take those flags before the subcommand sees them.
 */
export async function createApiToken(dir: string): Promise<{ token: string; file: string }> {
  const { runCli } = await import('./cli.js');
  mkdirSync(join(dir, 'emblem'), { recursive: true, mode: 0o700 });
  const r = await runCli(['serve', 'token', 'create', '--name', 'browser-test'], { env: { XDG_CONFIG_HOME: dir } });
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  // The token alone on stdout (the text form; --json is also taken by `serve` before the subcommand).
  return { token: r.stdout.trim(), file: join(dir, 'emblem', 'api-tokens.json') };
}
