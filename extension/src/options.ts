import { isReachableUrl, logUrls, readLogListText } from '../../src/browser/ct-commitment-checker.js';
import { reportError } from '../../src/core/errors.js';
import { serializeTrustStore } from '../../src/trust/store-format.js';
import { h } from './dom.js';
import { checkResolverUrl, loadSettings, originPattern, saveSettings, type Settings } from './settings.js';
import { importTrustMaterial } from './trust-import.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let settings: Settings;

function renderKeys(): void {
  $('keys').replaceChildren(
    ...settings.trustStore.map((e) => {
      const remove = h('button', { type: 'button', 'aria-label': `Remove ${e.name}` }, 'Remove');
      remove.addEventListener('click', () => {
        settings = { ...settings, trustStore: settings.trustStore.filter((k) => k !== e) };
        void saveSettings(settings).then(() => {
          renderKeys();
          $('trust-status').textContent = `Removed ${e.name}.`;
        });
      });
      return h('tr', {}, h('td', {}, e.name), h('td', {}, h('code', {}, e.kid)), h('td', {}, remove));
    }),
  );
}

async function init(): Promise<void> {
  settings = await loadSettings();
  $<HTMLInputElement>('resolver').value = settings.resolver;
  $<HTMLSelectElement>('era').value = settings.era;
  $<HTMLSelectElement>('commitments').value = settings.commitments;
  $<HTMLInputElement>('at').value = settings.at;
  $<HTMLTextAreaElement>('log-list').value = settings.logList;
  renderKeys();
  $('log-list-file').addEventListener('change', () => {
    const file = $<HTMLInputElement>('log-list-file').files?.[0];
    if (file) void file.text().then((t) => { $<HTMLTextAreaElement>('log-list').value = t; $('log-list-status').textContent = `Read ${file.name}; press Save.`; });
  });

  $('save').addEventListener('click', () => {
    const status = $('saved');
    const resolverText = $<HTMLInputElement>('resolver').value.trim();
    const at = $<HTMLInputElement>('at').value.trim();
    const logList = $<HTMLTextAreaElement>('log-list').value.trim();
    let permission: Promise<boolean> | null = null;
    let logs: string[] = [];
    try {
      if (at && Number.isNaN(new Date(at).getTime())) throw new Error('"verify as of" is not an ISO-8601 time');
      if (logList) {
        try {
          logs = logUrls(readLogListText(logList, 'the log list'));
        } catch (err) {
          throw new Error(reportError(err).message);
        }
      }
      const origins = new Set<string>();
      if (resolverText) origins.add(originPattern(checkResolverUrl(resolverText)));
      for (const u of logs) {
        const url = new URL(u);
        if (isReachableUrl(url)) origins.add(originPattern(url));
      }
      // Asked here, inside the click (a user gesture), for the resolver's host and the listed logs' hosts only.
      if (origins.size > 0) permission = chrome.permissions.request({ origins: [...origins] });
    } catch (err) {
      status.textContent = `Not saved: ${(err as Error).message}`;
      return;
    }
    settings = {
      ...settings,
      resolver: resolverText,
      era: $<HTMLSelectElement>('era').value as Settings['era'],
      commitments: $<HTMLSelectElement>('commitments').value as Settings['commitments'],
      logList,
      at,
    };
    $('log-list-status').textContent = logList ? `Log list with ${logs.length} log URL(s); only these logs are contacted.` : 'No log list: commitments are not checked.';
    void saveSettings(settings).then(() => {
      status.textContent = resolverText ? `Saved. Sites are looked up through ${resolverText}.` : 'Saved. Emblem is off: nothing is looked up.';
    });
    // Without the permission, requests still work if the resolver allows cross-origin reads (CORS).
    permission?.then(
      (granted) => { if (!granted) status.textContent += ' (Access was not granted: the resolver and the logs must allow cross-origin requests.)'; },
      () => undefined,
    );
  });

  const doImport = async (text: string) => {
    const status = $('trust-status');
    try {
      const r = await importTrustMaterial(settings.trustStore, text, $<HTMLInputElement>('import-name').value, new Date());
      settings = { ...settings, trustStore: r.keys };
      await saveSettings(settings);
      renderKeys();
      status.textContent = `Pinned ${r.added.length} key(s)${r.skipped.length ? `; skipped ${r.skipped.join('; ')}` : ''}.`;
    } catch (err) {
      status.textContent = `Not imported: ${(err as Error).message}`;
    }
  };
  $('import').addEventListener('click', () => void doImport($<HTMLTextAreaElement>('import-text').value));
  $('import-file').addEventListener('change', () => {
    const file = $<HTMLInputElement>('import-file').files?.[0];
    if (file) void file.text().then(doImport);
  });
  $('export').addEventListener('click', () => {
    const text = serializeTrustStore(settings.trustStore);
    $<HTMLTextAreaElement>('import-text').value = text;
    const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: 'emblem-trust-store.json' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.getAttribute('href')!), 10_000);
    $('trust-status').textContent = `Exported ${settings.trustStore.length} key(s) (also shown above, to copy).`;
  });
}

void init();
