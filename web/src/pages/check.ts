import { useEffect, useState } from 'preact/hooks';
import type { CheckReport, CheckedTokenSet } from '../../../src/dns/name-check.js';
import type { VerificationReport } from '../../../src/core/verify/report.js';
import { html } from '../html.js';
import { getJson, postText, query } from '../api.js';
import { navigate } from '../router.js';
import { ApiErrorBox, Badge, ErrorList, JsonBlock, KeyValues, Loading, fmtTime } from '../components.js';
import { ChainDrawing } from '../chain.js';

/** The check statuses in words (as `emblem check` prints them). */
const STATUS_WORDS: Record<CheckReport['status'], string> = {
  protected: 'Protected',
  indeterminate: 'Indeterminate: a valid emblem names this asset, but a root-key commitment could not be checked',
  contested: 'Contested: a valid chain names this asset, but the set also holds a conflicting emblem (ADEM result INVALID, MULTIPLE_EMBLEMS)',
  'not-covered': 'Not covered: a valid emblem is published here, but it does not name this asset',
  expired: 'Expired: the emblem records here are outside their validity window',
  invalid: 'Invalid: the emblem records here do not verify',
  'no-emblem': 'No emblem: the name exists but publishes no emblem records',
  nxdomain: 'NXDOMAIN: the name does not exist',
  error: 'Error: the lookup failed',
};

const COMMITMENT_WORDS: Record<VerificationReport['commitment'], string> = {
  verified: 'verified in Certificate Transparency',
  skipped: 'not checked (skipped on request)',
  failed: 'FAILED: the root key is not committed as claimed',
  unavailable: 'could not be checked (log list, log or network unavailable); the result is what was proven without it',
  'not-required': 'not required for this level',
};

function ReportSummary({ report, heading }: { report: VerificationReport; heading: string }) {
  return html`<${KeyValues}
    rows=${[
      [heading, html`${report.result.length ? report.result.map((r) => html`<${Badge} value=${r} /> `) : html`<${Badge} value="INVALID" />`} <span class="muted">levels: ${report.levels.join(', ') || 'none'}; era: ${report.era ?? 'unknown'}</span>`],
      ['Protected assets', report.protected.join(', ') || '–'],
      ['Issuer', report.issuer ?? '–'],
      ['Endorsed by', report.endorsedBy.join(', ') || '–'],
      ['Valid', report.emblem ? `${fmtTime(report.emblem.notBefore)} → ${fmtTime(report.emblem.expires)} (checked as of ${fmtTime(report.verifiedAt)})` : `checked as of ${fmtTime(report.verifiedAt)}`],
      ['Root-key commitment', COMMITMENT_WORDS[report.commitment] ?? report.commitment],
    ]}
  />`;
}

function coverWords(set: CheckedTokenSet): string {
  if (set.coveredBy) return `covers this name through asset ${set.coveredBy.asset}${set.coveredBy.address ? ` (address ${set.coveredBy.address})` : ''}`;
  if (set.contestedCoveredBy) return `INVALID, but a contested emblem covers this name through asset ${set.contestedCoveredBy.asset}`;
  if (set.result.length && !set.result.every((r) => r === 'INVALID' || r === 'UNSIGNED')) return 'does not name this asset';
  return 'does not verify';
}

/** `set.tokens` (asked for with ?tokens=true) lets the chain show each endorsement's kid, window and CT log entries as
 *  for pasted tokens. */
function SetView({ set, index }: { set: CheckedTokenSet; index: number }) {
  return html`<section class="card set">
    <h3>Token set ${index + 1}${set.identifier ? html` <span class="muted">(${set.identifier})</span>` : null}: ${coverWords(set)}</h3>
    <${ReportSummary} report=${set} heading="Result" />
    <${ChainDrawing} report=${set} tokenText=${set.tokens?.join('\n')} />
    ${set.contested?.map((c, i) => html`<div class="contested"><h4>Contested emblem ${i + 1} (verified alone)</h4><${ReportSummary} report=${{ ...set, ...c, errors: [], verifiedAt: set.verifiedAt }} heading="Alone" /></div>`)}
  </section>`;
}

function CheckResult({ report }: { report: CheckReport }) {
  const d = report.discovery;
  return html`<div class="result" data-status=${report.status}>
    <div class=${`headline tone-${report.status === 'protected' ? 'good' : report.status === 'indeterminate' || report.status === 'contested' || report.status === 'not-covered' ? 'partial' : 'bad'}`}>
      <h2><span class="target">${report.target}</span>: <span class="status-words">${STATUS_WORDS[report.status]}</span></h2>
      ${report.level ? html`<p>${report.status === 'protected' ? 'Level' : 'Proven level'} <${Badge} value=${report.level} /></p>` : null}
    </div>
    ${d
      ? html`<p class="muted discovery">Discovery: via ${d.resolver} over ${d.transport}${d.truncated ? ' (the UDP answer was truncated)' : ''}; ${d.records.txt} TXT (${d.records.ademTxt} ADEM), ${d.records.ihle} IHLE; DNSSEC AD=${d.ad ? 1 : 0}</p>`
      : null}
    <${ErrorList} title="Lookup errors" errors=${report.errors.map((e) => ({ code: String(e.code), message: e.message }))} />
    ${report.sets.map((s, i) => html`<${SetView} set=${s} index=${i} />`)}
    <${JsonBlock} value=${report} label="JSON report (emblem check --json --with-tokens)" />
  </div>`;
}

function VerifyResult({ report, text }: { report: VerificationReport; text: string }) {
  const failed = report.result.length === 0 || report.result.every((r) => r === 'INVALID' || r === 'UNSIGNED');
  const words = failed ? 'Does not verify' : report.commitment === 'unavailable' ? 'Indeterminate: a root-key commitment could not be checked' : `Verifies at ${report.result.join(' + ')}`;
  return html`<div class="result" data-status=${failed ? 'invalid' : report.commitment === 'unavailable' ? 'indeterminate' : 'valid'}>
    <div class=${`headline tone-${failed ? 'bad' : report.commitment === 'unavailable' ? 'partial' : 'good'}`}><h2><span class="status-words">${words}</span></h2></div>
    <section class="card set">
      <${ReportSummary} report=${report} heading="Result" />
      <${ChainDrawing} report=${report} tokenText=${text} />
    </section>
    <${JsonBlock} value=${report} label="JSON report (emblem verify --json)" />
  </div>`;
}

type Outcome = { kind: 'check'; report: CheckReport } | { kind: 'verify'; report: VerificationReport; text: string };

export function CheckPage({ search }: { search: URLSearchParams }) {
  const [mode, setMode] = useState<'name' | 'tokens'>('name');
  const [name, setName] = useState(search.get('name') ?? '');
  const [resolver, setResolver] = useState(search.get('resolver') ?? '');
  const [at, setAt] = useState(search.get('at') ?? '');
  const [skip, setSkip] = useState(search.get('skipCommitmentCheck') === '1' || search.get('skipCommitmentCheck') === 'true');
  const [tokens, setTokens] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const key = search.toString();
  // The deep link is the state: /check?name=... runs the check; the form only rewrites the URL.
  useEffect(() => {
    const n = search.get('name');
    setName(n ?? '');
    setResolver(search.get('resolver') ?? '');
    setAt(search.get('at') ?? '');
    setSkip(search.get('skipCommitmentCheck') === '1' || search.get('skipCommitmentCheck') === 'true');
    if (!n) return;
    const ctl = new AbortController();
    setBusy(true);
    setError(null);
    getJson<CheckReport>(`/api/check${query({ name: n, resolver: search.get('resolver'), at: search.get('at'), skipCommitmentCheck: search.get('skipCommitmentCheck') === '1' || search.get('skipCommitmentCheck') === 'true', tokens: true })}`, ctl.signal)
      .then((report) => setOutcome({ kind: 'check', report }))
      .catch((err) => { if ((err as Error).name !== 'AbortError') { setError(err); setOutcome(null); } })
      .finally(() => setBusy(false));
    return () => ctl.abort();
  }, [key]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (mode === 'name') {
      navigate(`/check${query({ name: name.trim(), resolver: resolver.trim(), at: at.trim(), skipCommitmentCheck: skip })}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const report = await postText<VerificationReport>(`/api/verify${query({ at: at.trim(), skipCommitmentCheck: skip })}`, tokens);
      setOutcome({ kind: 'verify', report, text: tokens });
    } catch (err) {
      setError(err);
      setOutcome(null);
    } finally {
      setBusy(false);
    }
  };

  return html`<section aria-labelledby="check-h">
    <h1 id="check-h">Check</h1>
    <p class="lede">Look up a name's emblem through a resolver (the asset itself is never contacted), or paste a token set, and see who vouches for it.</p>
    <form class="card form" onSubmit=${submit}>
      <div class="tabs" role="radiogroup" aria-label="What to check">
        <label><input type="radio" name="mode" value="name" checked=${mode === 'name'} onChange=${() => setMode('name')} /> A name</label>
        <label><input type="radio" name="mode" value="tokens" checked=${mode === 'tokens'} onChange=${() => setMode('tokens')} /> Pasted tokens</label>
      </div>
      ${mode === 'name'
        ? html`<div class="grid">
            <div class="field wide"><label for="check-name">Name</label><input id="check-name" name="name" required placeholder="clinic.hospital.example" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></div>
            <div class="field"><label for="check-resolver">Resolver (optional)</label><input id="check-resolver" name="resolver" placeholder="server default" value=${resolver} onInput=${(e: Event) => setResolver((e.target as HTMLInputElement).value)} /></div>
          </div>`
        : html`<div class="field wide"><label for="check-tokens">Token set (one item per line: JWS, CWT hex, JWK, adem-token= TXT)</label><textarea id="check-tokens" name="tokens" rows="6" required value=${tokens} onInput=${(e: Event) => setTokens((e.target as HTMLTextAreaElement).value)}></textarea></div>`}
      <div class="grid">
        <div class="field"><label for="check-at">As of (ISO-8601, optional)</label><input id="check-at" name="at" placeholder="now" value=${at} onInput=${(e: Event) => setAt((e.target as HTMLInputElement).value)} /></div>
        <div class="field check"><label><input type="checkbox" name="skipCommitmentCheck" checked=${skip} onChange=${(e: Event) => setSkip((e.target as HTMLInputElement).checked)} /> Skip the CT commitment check</label></div>
      </div>
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>${busy ? 'Checking…' : 'Check'}</button></div>
    </form>
    <div class="result-area" aria-live="polite" aria-busy=${busy}>
      ${busy ? html`<${Loading} label="Checking" />` : null}
      <${ApiErrorBox} error=${error} />
      ${!busy && outcome?.kind === 'check' ? html`<${CheckResult} report=${outcome.report} />` : null}
      ${!busy && outcome?.kind === 'verify' ? html`<${VerifyResult} report=${outcome.report} text=${outcome.text} />` : null}
      ${!busy && !outcome && !error ? html`<p class="muted placeholder">Enter a name or paste tokens; the result appears here, with the chain and the reason for every failed step.</p>` : null}
    </div>
  </section>`;
}
