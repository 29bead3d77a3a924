import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { getJson, query } from '../api.js';
import { navigate } from '../router.js';
import { ApiErrorBox, Badge, Loading, fmtTime } from '../components.js';

interface Incident {
  id: number;
  type: string;
  target: string;
  severity: 'critical' | 'warning' | 'info';
  opened: string;
  closed: string | null;
  observations: number[];
  detail: string;
}
interface Observation {
  target: string;
  time: string;
  vantagePoint: string;
  status: string;
  leafIndex: number | null;
}
interface Target {
  target: string;
  state?: string;
  status?: string;
  updated?: string;
}

/** Plot rows, weakest at the bottom: the check outcomes without an emblem, then the CORE-01 levels. */
const LEVELS = ['error', 'nxdomain', 'no-emblem', 'INVALID', 'UNSIGNED', 'SIGNED-UNTRUSTED', 'SIGNED-TRUSTED', 'ORGANIZATIONAL-UNTRUSTED', 'ORGANIZATIONAL-TRUSTED', 'ENDORSED-UNTRUSTED', 'ENDORSED-TRUSTED'];
const rows = <T>(r: unknown, key: string): T[] => (Array.isArray(r) ? (r as T[]) : (((r as Record<string, unknown>)[key] as T[] | undefined) ?? []));

function levelRank(status: string): number {
  const i = LEVELS.indexOf(status);
  return i >= 0 ? i : 0;
}

/** Level over time, one line per vantage point (SVG with a fixed box: no layout jump when data arrives). */
export function HistoryPlot({ observations, target }: { observations: Observation[]; target: string }) {
  const W = 720;
  const H = 300;
  const left = 190;
  const top = 10;
  const bottom = 30;
  const times = observations.map((o) => Date.parse(o.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - 20);
  const yOf = (rank: number) => top + (LEVELS.length - 1 - rank) * ((H - top - bottom) / (LEVELS.length - 1));
  const byVp = new Map<string, Observation[]>();
  for (const o of [...observations].sort((a, b) => a.time.localeCompare(b.time))) byVp.set(o.vantagePoint, [...(byVp.get(o.vantagePoint) ?? []), o]);
  const vps = [...byVp.keys()];
  return html`<figure class="plot">
    <svg viewBox=${`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby="plot-title">
      <title id="plot-title">Level of ${target} over time per vantage point, ${observations.length} observations</title>
      ${LEVELS.map((l, i) => html`<g><line x1=${left} x2=${W - 20} y1=${yOf(i)} y2=${yOf(i)} class="grid-line" /><text x=${left - 6} y=${yOf(i) + 4} text-anchor="end" class="svg-axis">${l}</text></g>`)}
      ${observations.length ? html`<text x=${left} y=${H - 8} class="svg-axis">${fmtTime(new Date(t0).toISOString())}</text><text x=${W - 20} y=${H - 8} text-anchor="end" class="svg-axis">${fmtTime(new Date(t1).toISOString())}</text>` : null}
      ${vps.map((vp, i) => {
        const obs = byVp.get(vp)!;
        // Vantage points that agree would draw on top of each other: each line is nudged a few pixels apart.
        const dy = (i - (vps.length - 1) / 2) * 4;
        const y = (rank: number) => yOf(rank) + dy;
        // A step line: the level holds until the next observation.
        const pts: string[] = [];
        obs.forEach((o, k) => {
          const px = x(Date.parse(o.time));
          const py = y(levelRank(o.status));
          if (k > 0) pts.push(`${px},${y(levelRank(obs[k - 1]!.status))}`);
          pts.push(`${px},${py}`);
        });
        return html`<g class=${`series s${i % 6}`}>
          <polyline points=${pts.join(' ')} class="line" />
          ${obs.map((o) => html`<circle cx=${x(Date.parse(o.time))} cy=${y(levelRank(o.status))} r="3" class="dot"><title>${vp} ${fmtTime(o.time)}: ${o.status}${o.leafIndex !== null ? ` (evidence #${o.leafIndex})` : ''}</title></circle>`)}
        </g>`;
      })}
    </svg>
    <figcaption class="legend">${vps.map((vp, i) => html`<span class=${`legend-item s${i % 6}`}><span class="swatch" aria-hidden="true"></span>${vp}</span>`)}</figcaption>
  </figure>`;
}

const DAY_MS = 86_400_000;
/** A deep link to an incident: its target's history from a day before it opened to a day after it closed (or opened). */
function incidentLink(i: Incident): string {
  const opened = Date.parse(i.opened);
  const end = i.closed ? Date.parse(i.closed) : opened;
  return `/observatory${query({ target: i.target, incident: i.id, from: new Date(opened - DAY_MS).toISOString(), to: new Date(end + DAY_MS).toISOString() })}`;
}

export function ObservatoryPage({ search }: { search: URLSearchParams }) {
  const target = search.get('target');
  const [incidents, setIncidents] = useState<Incident[] | null>(null);
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [observations, setObservations] = useState<Observation[] | null>(null);
  const [showClosed, setShowClosed] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const at = search.get('at') ?? '';

  useEffect(() => {
    getJson(`/api/observatory/incidents${query({ open: showClosed ? null : 'true' })}`).then((r) => setIncidents(rows<Incident>(r, 'incidents').reverse()), setError);
    getJson('/api/observatory/targets').then((r) => setTargets(rows<Target>(r, 'targets')), setError);
  }, [showClosed]);
  useEffect(() => {
    setObservations(null);
    if (!target) return;
    const ctl = new AbortController();
    getJson(`/api/observatory/targets/${encodeURIComponent(target)}/observations${query({ from: search.get('from'), to: search.get('to') })}`, ctl.signal).then((r) => setObservations(rows<Observation>(r, 'observations')), (e) => { if ((e as Error).name !== 'AbortError') setError(e); });
    return () => ctl.abort();
  }, [target, search.get('from'), search.get('to')]);

  const highlighted = search.get('incident');
  return html`<section aria-labelledby="obs-h">
    <h1 id="obs-h">Observatory</h1>
    <${ApiErrorBox} error=${error} />
    <section class="card" aria-labelledby="inc-h">
      <h2 id="inc-h">${showClosed ? 'All incidents' : 'Open incidents'}</h2>
      <label class="inline"><input type="checkbox" checked=${showClosed} onChange=${(e: Event) => setShowClosed((e.target as HTMLInputElement).checked)} /> include closed</label>
      ${incidents === null
        ? html`<${Loading} label="Loading incidents" />`
        : incidents.length === 0
          ? html`<p class="muted">No ${showClosed ? '' : 'open '}incidents.</p>`
          : html`<table class="table incidents">
              <thead><tr><th scope="col">Severity</th><th scope="col">Type</th><th scope="col">Target</th><th scope="col">Opened</th><th scope="col">Closed</th><th scope="col">Detail</th></tr></thead>
              <tbody>${incidents.map((i) => html`<tr id=${`incident-${i.id}`} data-type=${i.type} class=${highlighted === String(i.id) ? 'highlight' : ''}>
                <td><${Badge} value=${i.severity === 'critical' ? 'invalid' : i.severity === 'warning' ? 'warnings' : null} label=${i.severity} /></td>
                <td><code class="code">${i.type}</code></td>
                <td><a href=${incidentLink(i)}>${i.target}</a></td>
                <td>${fmtTime(i.opened)}</td><td>${i.closed ? fmtTime(i.closed) : 'open'}</td><td>${i.detail}</td>
              </tr>`)}</tbody>
            </table>`}
    </section>
    <section class="card" aria-labelledby="tgt-h">
      <h2 id="tgt-h">Targets</h2>
      ${targets === null
        ? html`<${Loading} label="Loading targets" />`
        : html`<div class="field inline"><label for="tgt-select">History of</label>
            <select id="tgt-select" value=${target ?? ''} onChange=${(e: Event) => navigate(`/observatory${query({ target: (e.target as HTMLSelectElement).value })}`)}>
              <option value="">(choose a target)</option>
              ${targets.map((t) => html`<option value=${t.target}>${t.target}</option>`)}
            </select></div>`}
      ${target
        ? html`<div class="history">
            <h3>${target}</h3>
            ${observations === null ? html`<div class="plot-placeholder"><${Loading} label="Loading history" /></div>` : observations.length ? html`<${HistoryPlot} observations=${observations} target=${target} />` : html`<p class="muted">No observations in this window.</p>`}
            <p><a class="button" download href=${`/api/observatory/evidence${query({ target, at: at || (observations?.length ? observations[observations.length - 1]!.time : null) })}`}>Export evidence bundle (JSON)</a></p>
          </div>`
        : null}
    </section>
  </section>`;
}
