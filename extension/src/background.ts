import { checkHost } from '../../src/browser/host-check.js';
import { BrowserLimits } from '../../src/browser/limits.js';
import { createBrowserCommitmentChecker } from '../../src/browser/ct-commitment-checker.js';
import { reportError } from '../../src/core/errors.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../../src/core/verify/commitment.js';
import type { DetailedCommitmentOutcome } from '../../src/ct/commitment-checker-base.js';
import { DEFAULT_IHLE_TYPE } from '../../src/dns/rr-type.js';
import { badgeFor } from './badge.js';
import { checkResolverUrl, loadSettings, tabKey, trustedKeys, type CtEntryView, type Settings, type TabState } from './settings.js';

/**
 * The service worker: on each top-level navigation to an http(s) page, asks the configured DoH resolver for the
 * host's emblem records, verifies them with the core (WebCrypto signatures), checks root-key commitments in the
 * CT logs of the imported log list, and sets the tab's badge. Nothing is sent anywhere but the resolver and those
 * logs; with no resolver chosen, nothing is sent at all.
 */

/** Commitments that are not checked (no log list, or the options say so): "unavailable", never "failed". */
function notChecked(why: string): CommitmentChecker {
  return { async check() { return { status: 'unavailable', errors: [{ code: 'COMMITMENT_UNVERIFIED', message: why }] }; } };
}

/** One checker per log list text, so tree heads and proven entries are reused between pages (bounded TTLs). */
let cached: { text: string; checker: CommitmentChecker } | null = null;

function commitmentsFor(settings: Settings): CommitmentChecker {
  if (settings.commitments === 'skip') return skipCommitmentCheck;
  if (settings.commitments === 'not-checked') return notChecked('root-key commitments are not checked (the options say so)');
  if (!settings.logList) return notChecked('no CT log list imported in the options: root-key commitments are not checked');
  if (cached?.text !== settings.logList) {
    try {
      cached = { text: settings.logList, checker: createBrowserCommitmentChecker({ logListText: settings.logList }) };
    } catch (err) {
      const e = reportError(err);
      return notChecked(`the imported CT log list is unusable (${e.code}: ${e.message})`);
    }
  }
  return cached.checker;
}

/** Wraps a checker to keep, for the popup, which log entries were checked and how. */
function recording(checker: CommitmentChecker, into: CtEntryView[]): CommitmentChecker {
  return {
    async check(request) {
      const outcome = (await checker.check(request)) as DetailedCommitmentOutcome;
      for (const e of outcome.entries ?? []) {
        if (into.length >= 32) break;
        into.push({
          log: e.logDescription ?? e.log.id,
          kind: e.log.ver === 'v1' || e.log.ver === 'static' ? e.log.ver : e.log.index !== undefined ? 'static' : e.log.hash ? 'v1' : 'unknown',
          status: e.status,
          ...(e.leafIndex !== undefined ? { leafIndex: e.leafIndex } : {}),
          ...(e.treeSize !== undefined ? { treeSize: e.treeSize } : {}),
          notes: [
            ...e.errors.map((x) => `${x.code}: ${x.message}`),
            ...(e.chain && e.chain.valid === 'not-checked' ? ['certificate chain not checked in the browser'] : []),
          ].slice(0, 8),
        });
      }
      return outcome;
    },
  };
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
  const ct: CtEntryView[] = [];
  const result = await checkHost(host, {
    dohUrl: resolver,
    era: settings.era,
    ihleType: DEFAULT_IHLE_TYPE,
    timeoutMs: BrowserLimits.dohTimeoutMs,
    trustedKeys: trustedKeys(settings),
    now: Number.isNaN(now.getTime()) ? new Date() : now,
    commitments: recording(commitmentsFor(settings), ct),
    fetch: (u, init) => fetch(u, init),
  });
  if (latest.get(tabId) !== navigation) return;
  await show(tabId, { url: pageUrl, host, state: 'done', checkedAt: new Date().toISOString(), result, commitments: settings.commitments, ct });
}

chrome.webNavigation.onCommitted.addListener((details) => {
  if (details.frameId !== 0) return;
  void checkTab(details.tabId, details.url);
});

chrome.tabs.onRemoved.addListener((tabId) => {
  latest.delete(tabId);
  void chrome.storage.session.remove(tabKey(tabId));
});
