import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { getJson, postJson, query } from '../api.js';
import { ApiErrorBox, Badge, ConfirmDialog, JsonBlock, Loading, TokenField, fmtTime } from '../components.js';

/** `emblem org status --json` rows. */
interface AssetRow {
  asset: string;
  status: 'published' | 'pending' | 'failing' | 'withdrawn' | string;
  level: string | null;
  validUntil: string | null;
  nextRenewal: string | null;
  channels: Record<string, string>;
  lastError: string | null;
  withdrawnAt?: string | null;
  cacheHorizon?: string | null;
  warning?: string;
}
interface Status {
  assets: AssetRow[];
  warnings: Array<{ asset?: string; code: string; message: string }>;
}
interface Finding {
  code: string;
  severity: string;
  message: string;
  fix?: string;
}
interface Plan {
  actions: Array<{ kind: string; asset?: string; assets?: string[]; channel?: string; reason?: string; add?: unknown[]; remove?: unknown[] }>;
  findings: Finding[];
}
interface Withdrawal {
  ok: boolean;
  removed: number;
  remaining: Array<{ server: string; records: number }>;
  cacheHorizon: string;
  cacheHorizonSeconds: number;
  note?: string;
}

/** Validity and renewal of each asset on one time axis (SVG; sizes fixed so nothing moves when it loads). */
function Timeline({ rows, now }: { rows: AssetRow[]; now: number }) {
  const times = rows.flatMap((r) => [r.validUntil, r.nextRenewal]).filter((t): t is string => Boolean(t)).map((t) => Date.parse(t));
  const end = Math.max(now + 86_400_000, ...times);
  const W = 640;
  const left = 180;
  const rowH = 28;
  const x = (t: number) => left + ((Math.min(Math.max(t, now), end) - now) / (end - now)) * (W - left - 10);
  const H = rows.length * rowH + 30;
  return html`<figure class="timeline">
    <svg viewBox=${`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby="timeline-title">
      <title id="timeline-title">Validity (bar) and next renewal (tick) per asset, ${fmtTime(new Date(now).toISOString())} to ${fmtTime(new Date(end).toISOString())}</title>
      ${rows.map((r, i) => {
        const y = i * rowH + 6;
        const vu = r.validUntil ? Date.parse(r.validUntil) : null;
        const nr = r.nextRenewal ? Date.parse(r.nextRenewal) : null;
        return html`<g>
          <text x="0" y=${y + 14} class="svg-label">${r.asset.length > 24 ? `${r.asset.slice(0, 23)}…` : r.asset}</text>
          ${vu !== null && r.status !== 'withdrawn' ? html`<rect x=${left} y=${y} width=${Math.max(2, x(vu) - left)} height="16" rx="3" class=${`bar tone-${r.status === 'failing' ? 'bad' : 'good'}`}><title>${r.asset}: valid until ${fmtTime(r.validUntil)}</title></rect>` : null}
          ${nr !== null ? html`<line x1=${x(nr)} x2=${x(nr)} y1=${y - 3} y2=${y + 19} class="tick"><title>${r.asset}: next renewal ${fmtTime(r.nextRenewal)}</title></line>` : null}
          ${r.status === 'withdrawn' ? html`<text x=${left} y=${y + 14} class="svg-note">withdrawn</text>` : null}
        </g>`;
      })}
      <text x=${left} y=${H - 4} class="svg-axis">${fmtTime(new Date(now).toISOString())}</text>
      <text x=${W - 10} y=${H - 4} text-anchor="end" class="svg-axis">${fmtTime(new Date(end).toISOString())}</text>
    </svg>
    <figcaption class="muted">Bar: valid until; tick: next renewal.</figcaption>
  </figure>`;
}

function Findings({ findings }: { findings: Finding[] }) {
  if (!findings.length) return html`<p class="muted">No findings.</p>`;
  return html`<ul class="findings">${findings.map((f) => html`<li><${Badge} value=${f.severity === 'error' ? 'invalid' : 'warnings'} label=${f.severity} /> <code class="code">${f.code}</code> ${f.message}${f.fix ? html`<div class="muted">fix: ${f.fix}</div>` : null}</li>`)}</ul>`;
}

function describeAction(a: Plan['actions'][number]): string {
  if (a.kind === 'sign') return `sign ${a.assets?.join(', ')} (${a.reason})`;
  if (a.kind === 'publish') return `publish ${a.asset} on ${a.channel}: add ${a.add?.length ?? 0}, remove ${a.remove?.length ?? 0} record(s)`;
  if (a.kind === 'remove') return `remove ${a.remove?.length ?? 0} record(s) of ${a.asset} from ${a.channel} (${a.reason})`;
  if (a.kind === 'verify') return `verify ${a.asset} on the authoritative servers`;
  return JSON.stringify(a);
}

export function OrgPage({ search }: { search: URLSearchParams }) {
  // ?at= shows the folder as of that time (status, plan, lint), as the CLI's --at; writes always use the server clock.
  const at = search.get('at');
  const [status, setStatus] = useState<Status | null>(null);
  const [lint, setLint] = useState<Finding[] | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState<{ kind: string; value: unknown } | null>(null);

  const load = () => {
    getJson<Status>(`/api/org/status${query({ at })}`).then(setStatus, setError);
    getJson<{ findings: Finding[] }>(`/api/org/lint${query({ at })}`).then((r) => setLint(r.findings), setError);
  };
  useEffect(load, [at]);

  const runPlan = async () => {
    setBusy('plan');
    try {
      setPlan(await getJson<Plan>(`/api/org/plan${query({ at })}`));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const apply = async () => {
    setBusy('apply');
    setError(null);
    try {
      setDone({ kind: 'apply', value: await postJson('/api/org/apply', {}, true) });
      load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const withdraw = async () => {
    setConfirming(false);
    setBusy('withdraw');
    setError(null);
    try {
      const r = await postJson<Withdrawal>('/api/org/withdraw', { assets: selected, confirm: true }, true);
      setDone({ kind: 'withdraw', value: r });
      setSelected([]);
      load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const toggle = (asset: string, on: boolean) => setSelected((s) => (on ? [...s, asset] : s.filter((a) => a !== asset)));
  const w = done?.kind === 'withdraw' ? (done.value as Withdrawal) : null;

  return html`<section aria-labelledby="org-h">
    <h1 id="org-h">Organisation</h1>
    <${TokenField} />
    <${ApiErrorBox} error=${error} />
    <section class="card" aria-labelledby="assets-h">
      <h2 id="assets-h">Assets</h2>
      ${status === null
        ? html`<${Loading} label="Loading assets" />`
        : html`<table class="table">
            <thead><tr><th scope="col"><span class="sr-only">Select</span></th><th scope="col">Asset</th><th scope="col">Status</th><th scope="col">Level</th><th scope="col">Valid until</th><th scope="col">Next renewal</th><th scope="col">Channels</th></tr></thead>
            <tbody>${status.assets.map((r) => html`<tr data-asset=${r.asset}>
              <td><input type="checkbox" aria-label=${`select ${r.asset}`} disabled=${r.status === 'withdrawn'} checked=${selected.includes(r.asset)} onChange=${(e: Event) => toggle(r.asset, (e.target as HTMLInputElement).checked)} /></td>
              <td>${r.asset}${r.lastError ? html`<div class="muted small">${r.lastError}</div>` : null}${r.warning ? html`<div class="muted small">${r.warning}</div>` : null}</td>
              <td><${Badge} value=${r.status === 'published' ? 'protected' : r.status === 'failing' ? 'invalid' : null} label=${r.status} /></td>
              <td>${r.level ? html`<${Badge} value=${r.level} />` : '–'}</td>
              <td>${r.status === 'withdrawn' ? html`withdrawn ${fmtTime(r.withdrawnAt)}; caches until ${fmtTime(r.cacheHorizon)}` : fmtTime(r.validUntil)}</td>
              <td>${fmtTime(r.nextRenewal)}</td>
              <td>${Object.entries(r.channels).map(([c, s]) => html`<div class="small">${c}: ${s}</div>`)}</td>
            </tr>`)}</tbody>
          </table>
          <${Timeline} rows=${status.assets} now=${at && !Number.isNaN(Date.parse(at)) ? Date.parse(at) : Date.now()} />
          <div class="actions">
            <button type="button" class="danger" disabled=${selected.length === 0 || busy !== null} onClick=${() => setConfirming(true)}>Withdraw selected (${selected.length})</button>
          </div>`}
    </section>
    <section class="card" aria-labelledby="lint-h">
      <h2 id="lint-h">Lint findings</h2>
      ${lint === null ? html`<${Loading} label="Linting" />` : html`<${Findings} findings=${lint} />`}
    </section>
    <section class="card" aria-labelledby="plan-h">
      <h2 id="plan-h">Plan and apply</h2>
      <div class="actions">
        <button type="button" onClick=${runPlan} disabled=${busy !== null}>${busy === 'plan' ? 'Planning…' : 'Show plan'}</button>
        <button type="button" class="primary" onClick=${apply} disabled=${busy !== null}>${busy === 'apply' ? 'Applying…' : 'Apply'}</button>
      </div>
      ${plan ? html`<div class="plan">${plan.actions.length ? html`<ol>${plan.actions.map((a) => html`<li>${describeAction(a)}</li>`)}</ol>` : html`<p>Nothing to do.</p>`}<${Findings} findings=${plan.findings} /></div>` : null}
      ${done?.kind === 'apply' ? html`<${JsonBlock} value=${done.value} label="Apply result" />` : null}
    </section>
    ${w ? html`<section class="card" aria-labelledby="withdrawn-h" data-testid="withdraw-result">
      <h2 id="withdrawn-h">Withdrawal ${w.ok ? 'done' : 'incomplete'}</h2>
      <p>Removed ${w.removed} record(s). ${w.remaining.map((s) => html`<span class="block">${s.server}: ${s.records === 0 ? 'no emblem records left' : `${s.records} emblem record(s) still answered`}</span>`)}</p>
      <p>Resolver caches may answer with the old records until ${fmtTime(w.cacheHorizon)} (TTL ${w.cacheHorizonSeconds} s).</p>
      ${w.note ? html`<p class="muted">${w.note}.</p>` : null}
      <${JsonBlock} value=${w} label="Withdrawal JSON" />
    </section>` : null}
    <${ConfirmDialog} open=${confirming} title="Withdraw emblems?" confirmLabel=${`Withdraw ${selected.length} asset(s)`} onConfirm=${withdraw} onCancel=${() => setConfirming(false)}>
      <p>This removes the emblem records of <strong>${selected.join(', ')}</strong> from every publishing channel now, checks on the authoritative servers that they are gone, and stops renewing them.</p>
      <p>Validators will no longer find an emblem for these assets once resolver caches expire (up to the records' TTL). Anyone who already fetched the tokens keeps them until they expire, and the binding certificate's CT entries are permanent.</p>
      <p>To publish again later: enable the assets (emblem org enable) and apply.</p>
    <//>
  </section>`;
}
