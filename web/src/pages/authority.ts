import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { getJson, postJson, query } from '../api.js';
import { ApiErrorBox, Badge, JsonBlock, KeyValues, Loading, TokenField, fmtTime } from '../components.js';

/** `emblem authority list --json` rows. */
interface Endorsement {
  id: string;
  organization: string;
  kid: string;
  status: string;
  issued: string;
  expires: string;
  constraints: unknown;
  reason?: string;
}
interface ReviewFinding {
  code: string;
  severity: 'info' | 'warning' | 'refuse';
  message: string;
}
/** `emblem authority review --json`. */
interface Review {
  verdict: 'ok' | 'warnings' | 'refuse';
  findings: ReviewFinding[];
  organization: string;
  kid: string;
  coseKid: string;
  constraints: unknown;
  contact: string;
  createdAt: string;
  commitment: string;
  eras: string[];
  published?: { checked: boolean; resolver: string | null; names: Array<{ name: string } & Record<string, unknown>> };
}

const list = (r: unknown): Endorsement[] => (Array.isArray(r) ? r : ((r as { endorsements?: Endorsement[] }).endorsements ?? []));

function EndorsementTable({ rows, caption }: { rows: Endorsement[]; caption: string }) {
  if (!rows.length) return html`<p class="muted">None.</p>`;
  return html`<table class="table">
    <caption class="sr-only">${caption}</caption>
    <thead><tr><th scope="col">Organisation</th><th scope="col">Root kid</th><th scope="col">Status</th><th scope="col">Issued</th><th scope="col">Expires</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr data-id=${r.id}>
      <td>${r.organization}</td><td><code class="kid-cell">${r.kid}</code></td>
      <td><${Badge} value=${r.status === 'active' ? 'protected' : r.status === 'revoked' || r.status === 'expired' ? 'invalid' : null} label=${r.status} /></td>
      <td>${fmtTime(r.issued)}</td><td>${fmtTime(r.expires)}</td>
    </tr>`)}</tbody>
  </table>`;
}

function constraintsText(c: unknown): string {
  if (!c || typeof c !== 'object') return 'none';
  return Object.entries(c as Record<string, unknown>).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ') || 'none';
}

export function AuthorityPage() {
  const [registry, setRegistry] = useState<Endorsement[] | null>(null);
  const [expiring, setExpiring] = useState<Endorsement[] | null>(null);
  const [days, setDays] = useState('30');
  const [request, setRequest] = useState('');
  const [review, setReview] = useState<Review | null>(null);
  const [granted, setGranted] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [acceptWarnings, setAcceptWarnings] = useState(false);

  const load = () => {
    getJson('/api/authority/registry').then((r) => setRegistry(list(r)), setError);
    getJson(`/api/authority/expiring${query({ days })}`).then((r) => setExpiring(list(r)), setError);
  };
  useEffect(load, [days]);

  const parsedRequest = (): unknown => {
    try {
      return JSON.parse(request);
    } catch {
      throw new Error('the request is not valid JSON (paste the file emblem org request-endorsement wrote)');
    }
  };
  const doReview = async (e: Event) => {
    e.preventDefault();
    setBusy('review');
    setError(null);
    setGranted(null);
    try {
      setReview(await postJson<Review>('/api/authority/review', { request: parsedRequest() }));
      setAcceptWarnings(false);
    } catch (err) {
      setError(err);
      setReview(null);
    } finally {
      setBusy(null);
    }
  };
  const grant = async () => {
    setBusy('grant');
    setError(null);
    try {
      setGranted(await postJson('/api/authority/grant', { request: parsedRequest(), acceptWarnings }, true));
      load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const readFile = async (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) setRequest(await f.text());
  };

  return html`<section aria-labelledby="auth-h">
    <h1 id="auth-h">Authority</h1>
    <${TokenField} />
    <${ApiErrorBox} error=${error} />
    <section class="card" aria-labelledby="review-h">
      <h2 id="review-h">Review a request</h2>
      <form onSubmit=${doReview}>
        <div class="field wide"><label for="req-text">Endorsement request (JSON)</label><textarea id="req-text" rows="5" required value=${request} onInput=${(e: Event) => setRequest((e.target as HTMLTextAreaElement).value)}></textarea></div>
        <div class="field"><label for="req-file">or a request file</label><input id="req-file" type="file" accept=".json,application/json" onChange=${readFile} /></div>
        <div class="actions"><button type="submit" disabled=${busy !== null}>${busy === 'review' ? 'Reviewing…' : 'Review'}</button></div>
      </form>
      ${review
        ? html`<div class="review" data-verdict=${review.verdict}>
            <h3>Verdict <${Badge} value=${review.verdict === 'ok' ? 'protected' : review.verdict} label=${review.verdict} /></h3>
            <${KeyValues} rows=${[
              ['Organisation', review.organization],
              ['Root key (kid)', html`<code>${review.kid}</code>`],
              ['Requested constraints', constraintsText(review.constraints)],
              ['Eras', review.eras.join(', ')],
              ['CT commitment', review.commitment],
              ['Contact', review.contact || '–'],
              ['Requested at', fmtTime(review.createdAt)],
              ['Published now', review.published?.checked ? `${review.published.names.length} name(s) looked up via ${review.published.resolver}` : 'not checked'],
            ]} />
            <ul class="findings">${review.findings.map((f) => html`<li><${Badge} value=${f.severity === 'refuse' ? 'invalid' : f.severity === 'warning' ? 'warnings' : null} label=${f.severity} /> <code class="code">${f.code}</code> ${f.message}</li>`)}</ul>
            ${review.verdict === 'warnings' ? html`<label class="inline"><input type="checkbox" checked=${acceptWarnings} onChange=${(e: Event) => setAcceptWarnings((e.target as HTMLInputElement).checked)} /> Accept the warnings above and sign anyway</label>` : null}
            <div class="actions"><button type="button" class="primary" disabled=${busy !== null || review.verdict === 'refuse' || (review.verdict === 'warnings' && !acceptWarnings)} onClick=${grant}>${busy === 'grant' ? 'Granting…' : `Grant endorsement of ${review.organization}`}</button></div>
          </div>`
        : null}
      ${granted ? html`<div class="granted" role="status"><p><${Badge} value="protected" label="granted" /> The endorsement was signed and recorded in the registry.</p><${JsonBlock} value=${granted} label="Grant result" /></div>` : null}
    </section>
    <section class="card" aria-labelledby="exp-h">
      <h2 id="exp-h">Expiring endorsements</h2>
      <div class="field inline"><label for="exp-days">Within days</label><input id="exp-days" type="number" min="1" max="3650" value=${days} onChange=${(e: Event) => setDays((e.target as HTMLInputElement).value)} /></div>
      ${expiring === null ? html`<${Loading} label="Loading" />` : html`<${EndorsementTable} rows=${expiring} caption="Expiring endorsements" />`}
    </section>
    <section class="card" aria-labelledby="reg-h">
      <h2 id="reg-h">Registry</h2>
      ${registry === null ? html`<${Loading} label="Loading registry" />` : html`<${EndorsementTable} rows=${registry} caption="Registry" />`}
    </section>
  </section>`;
}
