import type { PublicKey } from '../../src/core/tokens/keys.js';
import { parsePublicJwk } from '../../src/core/tokens/keys.js';
import type { DiscoveryEra } from '../../src/dns/discovery-report.js';
import type { TrustedKeyEntry } from '../../src/trust/store-format.js';
import { isReachableUrl } from '../../src/browser/ct-commitment-checker.js';

/**
 * What the user chose in the options page, kept in chrome.storage.local (never synced: the trust store and the
 * resolver stay on this device).
 */
export interface Settings {
  /** RFC 8484 endpoint, or '' for none: then nothing is looked up and nothing leaves the browser. */
  resolver: string;
  era: DiscoveryEra;
  /** Pinned authority keys, in the CLI trust store's entry format (src/trust/store-format.ts). */
  trustStore: TrustedKeyEntry[];
  /**
   * Root-key commitments in Certificate Transparency. 'check': through the HTTP APIs of the logs in `logList`
   * (none imported: not checked). 'not-checked': no CT log is contacted; a level that depends on a commitment is
   * shown as not established (never as invalid). 'skip': like the CLI's --skip-commitment-check, levels are
   * reached without them and the popup says they were skipped.
   */
  commitments: 'check' | 'not-checked' | 'skip';
  /** The v3 log list (the JSON `emblem --log-list` reads), as imported; '' = none, so nothing is checked. */
  logList: string;
  /** Verify as of this ISO-8601 time instead of now (like --at); '' = now. */
  at: string;
}

export const DEFAULT_SETTINGS: Settings = { resolver: '', era: 'any', trustStore: [], commitments: 'check', logList: '', at: '' };

export async function loadSettings(): Promise<Settings> {
  const stored = (await chrome.storage.local.get('settings')) as { settings?: Partial<Settings> };
  return { ...DEFAULT_SETTINGS, ...(stored.settings ?? {}) };
}

export async function saveSettings(settings: Settings): Promise<void> {
  await chrome.storage.local.set({ settings });
}

/** The pinned keys as the verifier takes them; the kid is re-derived from the key, never taken from storage. */
export function trustedKeys(settings: Settings): PublicKey[] {
  const out: PublicKey[] = [];
  for (const e of settings.trustStore) {
    try {
      out.push(parsePublicJwk(e.jwk));
    } catch {
      // an entry that no longer parses pins nothing (the options page refuses such entries on import)
    }
  }
  return out;
}

/** A resolver URL the extension accepts: https, or http on loopback only (a local test server). */
export function checkResolverUrl(text: string): URL {
  const url = new URL(text);
  if (url.username || url.password) throw new Error('the resolver URL must not carry credentials');
  if (!isReachableUrl(url)) {
    throw new Error('the resolver needs an https:// URL (http:// only on 127.0.0.1/localhost, for a local test server)');
  }
  return url;
}

/** The optional host permission pattern for a resolver URL (host permissions ignore the port). */
export function originPattern(url: URL): string {
  return `${url.protocol}//${url.hostname}/*`;
}

/** What the service worker stores per tab (chrome.storage.session) for the popup. */
export interface TabState {
  url: string;
  host: string;
  state: 'off' | 'checking' | 'done';
  checkedAt?: string;
  result?: import('../../src/browser/host-check.js').HostCheck;
  commitments?: Settings['commitments'];
  /** The CT log entries checked for this page (log name, index, tree size, outcome), for the popup. */
  ct?: CtEntryView[];
}

/** One checked CT log entry, as the popup shows it. */
export interface CtEntryView {
  log: string;
  kind: 'v1' | 'static' | 'unknown';
  status: 'verified' | 'failed' | 'unavailable';
  leafIndex?: number;
  treeSize?: number;
  /** Why it failed or could not be checked; for verified entries, what was not checked (the chain). */
  notes: string[];
}

export const tabKey = (tabId: number) => `tab:${tabId}`;
