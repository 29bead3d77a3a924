import { checkHost } from '../../src/browser/host-check.js';
import { BrowserLimits } from '../../src/browser/limits.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../../src/core/verify/commitment.js';
import { DEFAULT_IHLE_TYPE } from '../../src/dns/rr-type.js';
import { badgeFor } from './badge.js';
import { checkResolverUrl, loadSettings, tabKey, trustedKeys, type Settings, type TabState } from './settings.js';

/**
 * The service worker: on each top-level navigation to an http(s) page, asks the configured DoH resolver for the
 * host's emblem records, verifies them with the core (WebCrypto signatures), and sets the tab's badge. Nothing is
 * sent anywhere but the resolver; with no resolver chosen, nothing is sent at all.
 */

/** This extension has no CT client yet: commitments are "unavailable" (shown as not checked), never "failed". */
const notCheckedInBrowser: CommitmentChecker = {
  async check() {
    return {
      status: 'unavailable',
      errors: [{ code: 'COMMITMENT_UNVERIFIED', message: 'root-key commitments in Certificate Transparency are not checked by this extension' }],
    };
  },
};

function commitmentsFor(settings: Settings): CommitmentChecker {
  return settings.commitments === 'skip' ? skipCommitmentCheck : notCheckedInBrowser;
}

/** Latest navigation per tab, so a slow answer for a page the user already left is dropped. */
const latest = new Map<number, string>();

async function show(tabId: number, state: TabState): Promise<void> {
  const badge = badgeFor(state.state, state.result);
  await chrome.storage.session.set({ [tabKey(tabId)]: state });
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: badge.text }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: badge.color }),
    chrome.action.setTitle({ tabId, title: badge.title }),
  ]).catch(() => undefined); // the tab may have closed meanwhile
}

export async function checkTab(tabId: number, pageUrl: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
  // An IP-literal host has no name to look up.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const navigation = `${pageUrl}#${Date.now()}`;
  latest.set(tabId, navigation);
  const settings = await loadSettings();
  if (!settings.resolver) {
    await show(tabId, { url: pageUrl, host, state: 'off' });
    return;
  }
  await show(tabId, { url: pageUrl, host, state: 'checking' });
  let resolver: string;
  try {
    resolver = checkResolverUrl(settings.resolver).toString();
  } catch (err) {
    const result = { target: host, status: 'error' as const, level: null, sets: [], discovery: null, errors: [{ code: 'USAGE', message: (err as Error).message }], chain: [] };
    await show(tabId, { url: pageUrl, host, state: 'done', result });
    return;
  }
  const now = settings.at ? new Date(settings.at) : new Date();
  const result = await checkHost(host, {
    dohUrl: resolver,
    era: settings.era,
    ihleType: DEFAULT_IHLE_TYPE,
    timeoutMs: BrowserLimits.dohTimeoutMs,
    trustedKeys: trustedKeys(settings),
    now: Number.isNaN(now.getTime()) ? new Date() : now,
    commitments: commitmentsFor(settings),
    fetch: (u, init) => fetch(u, init),
  });
  if (latest.get(tabId) !== navigation) return;
  await show(tabId, { url: pageUrl, host, state: 'done', checkedAt: new Date().toISOString(), result, commitments: settings.commitments });
}

chrome.webNavigation.onCommitted.addListener((details) => {
  if (details.frameId !== 0) return;
  void checkTab(details.tabId, details.url);
});

chrome.tabs.onRemoved.addListener((tabId) => {
  latest.delete(tabId);
  void chrome.storage.session.remove(tabKey(tabId));
});
