import type { ChainToken, HostCheck } from '../../src/browser/host-check.js';
import { badgeFor } from './badge.js';
import { h } from './dom.js';
import { loadSettings, tabKey, type CtEntryView, type TabState } from './settings.js';

/** The popup: the result for one tab (`popup.html?tab=ID`, or the active tab), read from the service worker's state. */

const STATUS_WORDS: Record<HostCheck['status'], string> = {
  protected: 'A valid emblem names this host.',
  indeterminate: 'A valid emblem names this host; a stronger level depends on a Certificate Transparency commitment that was not checked.',
  contested: 'INVALID: the records hold several emblems (one alone would verify).',
  'not-covered': 'An emblem is published here, but it does not name this host.',
  expired: 'INVALID: the emblem records are outside their validity period.',
  invalid: 'INVALID: the emblem records do not verify.',
  'no-emblem': 'No emblem: this host publishes no emblem records.',
  nxdomain: 'No emblem: the name does not exist in the DNS.',
  error: 'Not checked: the lookup failed.',
};

function levelClass(r: HostCheck): string {
  if (r.status === 'protected') return r.level?.endsWith('-UNTRUSTED') ? 'warn' : 'ok';
  if (r.status === 'invalid' || r.status === 'expired' || r.status === 'contested') return 'bad';
  return 'muted';
}

function node(t: ChainToken, index: number, trustedKids: Set<string>): HTMLElement {
  const what =
    t.kind === 'emblem' ? 'Emblem (signed by the emblem key)'
    : t.issuer && t.subject && t.issuer !== t.subject ? `Authority ${t.issuer} endorses the organisation's root key`
    : index === 1 ? "The organisation's root key endorses the emblem key"
    : 'The organisation endorses one of its keys';
  const dl = h('dl', {},
    h('dt', {}, 'issuer'), h('dd', {}, t.issuer ?? '—'),
    ...(t.kind === 'emblem' ? [h('dt', {}, 'assets'), h('dd', {}, (t.assets ?? []).join(', '))] : [h('dt', {}, 'endorses kid'), h('dd', {}, h('code', {}, t.endorsedKid ?? '—'))]),
    h('dt', {}, 'signed by kid'), h('dd', {}, h('code', {}, t.signerKid ?? '—'), t.signerKid && trustedKids.has(t.signerKid) ? h('span', { class: 'ok' }, ' (pinned)') : null),
    h('dt', {}, 'valid'), h('dd', {}, `${t.notBefore} – ${t.expires}`),
    ...(t.logs > 0 ? [h('dt', {}, 'CT log entries'), h('dd', {}, String(t.logs))] : []),
  );
  return h('li', { 'data-kind': t.kind }, h('strong', {}, what), dl);
}

function ctEntry(e: CtEntryView): HTMLElement {
  const where = e.leafIndex !== undefined ? ` entry #${e.leafIndex}${e.treeSize !== undefined ? ` of ${e.treeSize}` : ''}` : '';
  const word = e.status === 'verified' ? 'verified' : e.status === 'failed' ? 'FAILED' : 'not checked';
  return h('li', { 'data-status': e.status },
    h('span', { class: e.status === 'verified' ? 'ok' : e.status === 'failed' ? 'bad' : 'muted' }, word),
    ` ${e.log}${where} (${e.kind === 'static' ? 'static-ct tiles' : e.kind === 'v1' ? 'RFC 6962' : 'log'})`,
    ...(e.notes.length ? [h('br'), h('small', {}, e.notes.join('; '))] : []),
  );
}

function commitmentText(report: HostCheck['sets'][number]): string {
  switch (report.commitment) {
    case 'verified': return 'verified in Certificate Transparency (certificate chain not checked in the browser)';
    case 'skipped': return 'skipped (the options say so)';
    case 'failed': return 'FAILED';
    case 'unavailable': return 'not checked';
    default: return 'not required';
  }
}

async function render(): Promise<void> {
  const main = document.getElementById('main')!;
  const param = new URLSearchParams(location.search).get('tab');
  let tabId = param !== null ? Number(param) : NaN;
  if (!Number.isInteger(tabId)) {
    const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
    tabId = tab?.id ?? -1;
  }
  const stored = (await chrome.storage.session.get(tabKey(tabId))) as Record<string, TabState | undefined>;
  const state = stored[tabKey(tabId)];
  main.replaceChildren();
  if (!state) {
    main.append(h('p', {}, 'No page checked in this tab yet.'));
    return;
  }
  main.append(h('h1', {}, state.host));
  if (state.state !== 'done' || !state.result) {
    main.append(h('p', { id: 'level', class: 'muted' }, badgeFor(state.state, state.result).title.replace(/^Emblem: /, '')));
    if (state.state === 'off') main.append(h('p', {}, h('a', { href: 'options.html', target: '_blank' }, 'Open the options')));
    return;
  }
  const r = state.result;
  main.append(
    h('p', { id: 'level', class: `level ${levelClass(r)}`, 'data-status': r.status }, r.level ?? (r.status === 'no-emblem' || r.status === 'nxdomain' ? 'NO EMBLEM' : r.status === 'error' ? 'NOT CHECKED' : 'INVALID')),
    h('p', { id: 'status' }, STATUS_WORDS[r.status]),
  );
  const best = r.sets[0];
  if (best) {
    const settings = await loadSettings();
    const trustedKids = new Set(settings.trustStore.flatMap((e) => [e.kid, e.coseKid]));
    main.append(
      h('dl', { id: 'summary' },
        h('dt', {}, 'issuer'), h('dd', { id: 'issuer' }, best.issuer ?? '—'),
        h('dt', {}, 'endorsed by'), h('dd', { id: 'endorsers' }, best.endorsedBy.join(', ') || '—'),
        h('dt', {}, 'result'), h('dd', {}, best.result.join(' + ') || 'INVALID'),
        h('dt', {}, 'CT commitments'), h('dd', { id: 'commitment' }, commitmentText(best)),
        h('dt', {}, 'era'), h('dd', {}, best.era ?? '—'),
        ...(best.emblem ? [h('dt', {}, 'emblem valid'), h('dd', {}, `${best.emblem.notBefore} – ${best.emblem.expires}`)] : []),
      ),
    );
    if (state.ct?.length) main.append(h('h2', {}, 'CT log entries'), h('ul', { class: 'ct', id: 'ct' }, ...state.ct.map(ctEntry)));
    if (r.chain.length > 0) main.append(h('h2', {}, 'Chain'), h('ol', { class: 'chain', id: 'chain' }, ...r.chain.map((t, i) => node(t, i, trustedKids))));
    if (best.notEstablished?.length) {
      main.append(h('h2', {}, 'Not established'), h('ul', { class: 'errors' }, ...best.notEstablished.map((n) => h('li', {}, `${n.level}: ${n.message}`))));
    }
  }
  const errors = [...r.errors, ...(best?.errors ?? [])];
  if (errors.length > 0) main.append(h('h2', {}, 'Why'), h('ul', { class: 'errors', id: 'errors' }, ...errors.map((e) => h('li', {}, h('code', {}, String(e.code)), ` ${e.message}`))));
  main.append(h('p', { class: 'note' }, `Looked up via ${r.discovery?.resolver ?? 'the configured resolver'}${state.checkedAt ? ` at ${state.checkedAt}` : ''}. Only that resolver saw the name${state.ct?.length ? '; the CT logs listed above saw which entries were looked at' : ''}.`));
}

void render();
