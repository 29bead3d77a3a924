import { CtCommitmentCheckerBase, type CommitmentPolicy, type EntryChainChecker } from '../ct/commitment-checker-base.js';
import { ctError, CtErrorCodes } from '../ct/errors.js';
import { fetchHttp, type HttpClient } from '../ct/http.js';
import { parseLogList, type LogDirectory } from '../ct/log-list.js';
import { TreeHeadHistory } from '../ct/tree-head-history.js';
import { BrowserCtLimits } from './limits.js';
import { gunzipWithStreams, verifyDigitallySignedWebCrypto } from './ct-webcrypto.js';

/**
 * The browser's root-key commitment checker: the CLI's own check (src/ct/commitment-checker-base.ts: signed tree
 * head or checkpoint, inclusion proof or tiles, re-hashed entry, the ADEM binding of the logged certificate),
 * on fetch and WebCrypto. What it does not do: validate the certificate chain the log stored with the entry to
 * the log's roots (that needs the roots and issuers fetched and X.509 path validation); entries report the chain
 * as "not checked", and the popup and docs/extension.md say so.
 */

const CHAIN_NOT_CHECKED = 'the certificate chain is not validated in the browser (the CLI does: emblem ct check)';

export const chainNotChecked: EntryChainChecker = {
  async rfc6962(_log, _source, _entry, extraData) {
    return { length: extraData.length > 0 ? 1 : 0, valid: 'not-checked', reason: CHAIN_NOT_CHECKED };
  },
  async tiled(_log, _source, leaf) {
    return { length: leaf.chainFingerprints.length, valid: 'not-checked', reason: CHAIN_NOT_CHECKED };
  },
};

/** Where the extension may send a request: https anywhere, http only on loopback (a local log, in tests). */
export function isReachableUrl(url: URL): boolean {
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  return !url.username && !url.password && (url.protocol === 'https:' || (url.protocol === 'http:' && loopback));
}

/** Reads a v3 log list the way `--log-list` does, bounded; throws CT_LOG_LIST_INVALID on anything else. */
export function readLogListText(text: string, source: string): LogDirectory {
  if (text.length > BrowserCtLimits.maxLogListBytes) throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${source}: larger than ${BrowserCtLimits.maxLogListBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${source}: not JSON`, err);
  }
  return parseLogList(json, source);
}

/** The URL prefixes a directory's logs are reached at (for host permissions and the request-log check). */
export function logUrls(directory: LogDirectory): string[] {
  const urls = new Set<string>();
  for (const l of directory.logs) for (const u of [l.url, l.monitoringUrl, l.submissionUrl]) if (u) urls.add(u);
  return [...urls].slice(0, BrowserCtLimits.maxLogOrigins);
}

export interface BrowserCommitmentCheckerOptions {
  /** The log list's text (the options page stores what the user imported). */
  logListText: string;
  policy?: CommitmentPolicy;
  /** Defaults to fetch; every URL it is given comes from the log list. */
  http?: HttpClient;
  now?: () => number;
}

/**
 * A checker that only talks to the logs of the list: the HTTP client refuses any URL that is not under a listed
 * log's URL (or not https / loopback http) as CT_LOG_UNREACHABLE, which is "could not check", never "failed".
 */
export function createBrowserCommitmentChecker(options: BrowserCommitmentCheckerOptions): CtCommitmentCheckerBase {
  const directory = readLogListText(options.logListText, 'the extension\'s log list');
  const allowed = logUrls(directory);
  const base = options.http ?? fetchHttp;
  const http: HttpClient = (url, request) => {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // refused below
    }
    if (!parsed || !isReachableUrl(parsed) || !allowed.some((prefix) => url.startsWith(prefix))) {
      return Promise.reject(ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: not fetched (the extension reaches https or loopback URLs of the listed logs only)`));
    }
    return base(url, request);
  };
  return new CtCommitmentCheckerBase(
    {
      logDirectory: async () => directory,
      http,
      treeHeads: new TreeHeadHistory(),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.now ? { now: options.now } : {}),
    },
    { verify: verifyDigitallySignedWebCrypto, gunzip: gunzipWithStreams, chains: chainNotChecked },
  );
}
