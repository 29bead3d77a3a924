import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { deleteJson, getJson, postJson, query } from '../api.js';
import { navigate } from '../router.js';
import { ApiErrorBox, Badge, TokenField } from '../components.js';

interface ScanJob {
  id: string;
  state: 'queued' | 'running' | 'done' | 'cancelled' | 'failed';
  total: number;
  done: number;
  counts: Record<string, number>;
  error?: { code: string; message: string };
}

/** Poll interval while a scan runs: often enough to look live, rare enough to cost the server nothing. */
const POLL_MS = 400;

export function ScanPage({ search }: { search: URLSearchParams }) {
  const id = search.get('id');
  const [text, setText] = useState('');
  const [resolver, setResolver] = useState('');
  const [at, setAt] = useState('');
  const [skip, setSkip] = useState(false);
  const [job, setJob] = useState<ScanJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setJob(null);
    if (!id) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const j = await getJson<ScanJob>(`/api/scans/${encodeURIComponent(id)}`);
        if (stop) return;
        setJob(j);
        if (j.state === 'queued' || j.state === 'running') timer = setTimeout(poll, POLL_MS);
      } catch (err) {
        if (!stop) setError(err);
      }
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [id]);

  const names = () => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const submit = async (e: Event) => {
    e.preventDefault();
    // The server bounds the names per job (LIMIT_EXCEEDED, shown as it answers).
    const list = names();
    setBusy(true);
    setError(null);
    try {
      const r = await postJson<{ id: string }>('/api/scans', { names: list, ...(resolver.trim() ? { resolver: resolver.trim() } : {}), ...(at.trim() ? { at: at.trim() } : {}), ...(skip ? { skipCommitmentCheck: true } : {}) }, true);
      navigate(`/scan${query({ id: r.id })}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    if (!id) return;
    try {
      await deleteJson(`/api/scans/${encodeURIComponent(id)}`, true);
      setJob(await getJson<ScanJob>(`/api/scans/${encodeURIComponent(id)}`));
    } catch (err) {
      setError(err);
    }
  };
  const readFile = async (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) setText(await f.text());
  };
  const running = job?.state === 'queued' || job?.state === 'running';
  const count = names().length;

  return html`<section aria-labelledby="scan-h">
    <h1 id="scan-h">Scan</h1>
    <${TokenField} />
    <form class="card form" onSubmit=${submit}>
      <div class="field wide"><label for="scan-names">Names, one per line</label><textarea id="scan-names" rows="6" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea></div>
      <div class="grid">
        <div class="field"><label for="scan-file">or upload a list</label><input id="scan-file" type="file" accept=".txt,.csv,text/plain" onChange=${readFile} /></div>
        <div class="field"><label for="scan-resolver">Resolver (optional)</label><input id="scan-resolver" placeholder="server default" value=${resolver} onInput=${(e: Event) => setResolver((e.target as HTMLInputElement).value)} /></div>
        <div class="field"><label for="scan-at">As of (optional)</label><input id="scan-at" placeholder="now" value=${at} onInput=${(e: Event) => setAt((e.target as HTMLInputElement).value)} /></div>
        <div class="field check"><label><input type="checkbox" checked=${skip} onChange=${(e: Event) => setSkip((e.target as HTMLInputElement).checked)} /> Skip the CT commitment check</label></div>
      </div>
      <div class="actions"><button type="submit" class="primary" disabled=${busy || count === 0}>Scan ${count} name${count === 1 ? '' : 's'}</button></div>
    </form>
    <${ApiErrorBox} error=${error} />
    <section class="card scan-job" aria-labelledby="job-h">
      <h2 id="job-h">${id ? `Scan ${id}` : 'Progress'}</h2>
      <div class="progress-row">
        <progress max=${job?.total || 1} value=${job?.done ?? 0} aria-label="scan progress"></progress>
        <span class="progress-text" role="status" aria-live="polite">${job ? `${job.done} / ${job.total} (${job.state})` : id ? 'loading…' : 'no scan yet'}</span>
      </div>
      <ul class="counts">${job ? Object.entries(job.counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => html`<li><${Badge} value=${k} /> <span class="count" data-status=${k}>${v}</span></li>`) : null}</ul>
      ${job?.error ? html`<p class="alert tone-bad"><code class="code">${job.error.code}</code> ${job.error.message}</p>` : null}
      <div class="actions">
        ${running ? html`<button type="button" onClick=${cancel}>Cancel scan</button>` : null}
        ${id && job && !running ? html`<a class="button" download=${`scan-${id}.jsonl`} href=${`/api/scans/${encodeURIComponent(id)}/results`}>Download JSON lines</a>
          <a class="button" download=${`scan-${id}.csv`} href=${`/api/scans/${encodeURIComponent(id)}/results${query({ format: 'csv' })}`}>Download CSV</a>` : null}
      </div>
    </section>
  </section>`;
}
