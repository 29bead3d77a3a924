import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { storedToken, storeToken, ApiError } from './api.js';

/** Colour class of a CORE-01 level or a check status: good, partial (untrusted / not established), bad, none. */
export function tone(level: string | null | undefined): 'good' | 'partial' | 'bad' | 'none' {
  if (!level) return 'none';
  if (level === 'protected' || level.endsWith('-TRUSTED')) return 'good';
  if (level.endsWith('-UNTRUSTED') || level === 'indeterminate' || level === 'contested' || level === 'not-covered' || level === 'warnings') return 'partial';
  if (level === 'INVALID' || level === 'UNSIGNED' || level === 'invalid' || level === 'expired' || level === 'failing' || level === 'refuse' || level === 'error') return 'bad';
  return 'none';
}

export function Badge({ value, label }: { value: string | null | undefined; label?: string }) {
  return html`<span class=${`badge tone-${tone(value)}`}>${label ?? value ?? 'none'}</span>`;
}

export function ErrorList({ errors, title }: { errors: Array<{ code: string; message: string }>; title?: string }) {
  if (!errors.length) return null;
  return html`<div class="errors">
    ${title ? html`<h4>${title}</h4>` : null}
    <ul>${errors.map((e) => html`<li><code class="code">${e.code}</code> ${e.message}</li>`)}</ul>
  </div>`;
}

export function ApiErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'CLIENT', (error as Error).message ?? String(error));
  return html`<div class="alert tone-bad" role="alert"><code class="code">${e.code}</code> ${e.message}</div>`;
}

/** Pretty JSON with a copy button: what the CLI's --json prints, for scripts and bug reports. */
export function JsonBlock({ value, label = 'JSON' }: { value: unknown; label?: string }) {
  const [copied, setCopied] = useState(false);
  const text = JSON.stringify(value, null, 2);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return html`<details class="json">
    <summary>${label}</summary>
    <div class="json-tools"><button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy JSON'}</button></div>
    <pre tabindex="0" aria-label=${label}><code>${text}</code></pre>
  </details>`;
}

/** A modal confirmation (native <dialog>): states what will happen before anything irreversible runs. */
export function ConfirmDialog(props: { open: boolean; title: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return html`<dialog ref=${ref} class="dialog" aria-labelledby="confirm-title" onCancel=${(e: Event) => { e.preventDefault(); props.onCancel(); }}>
    <h2 id="confirm-title">${props.title}</h2>
    <div class="dialog-body">${props.children}</div>
    <div class="actions">
      <button type="button" onClick=${props.onCancel}>Cancel</button>
      <button type="button" class="danger" onClick=${props.onConfirm}>${props.confirmLabel}</button>
    </div>
  </dialog>`;
}

/** The API token for write actions, kept in sessionStorage only (gone when the tab closes). */
export function TokenField() {
  const [token, setToken] = useState(storedToken() ?? '');
  const [saved, setSaved] = useState(storedToken() !== null);
  return html`<form class="token-field" onSubmit=${(e: Event) => { e.preventDefault(); storeToken(token || null); setSaved(Boolean(token)); }}>
    <label for="api-token">API token (for write actions; kept in this tab only)</label>
    <div class="row">
      <input id="api-token" type="password" autocomplete="off" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      <button type="submit">${saved ? 'Update token' : 'Use token'}</button>
      ${saved ? html`<button type="button" onClick=${() => { storeToken(null); setToken(''); setSaved(false); }}>Forget</button>` : null}
    </div>
  </form>`;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // Minutes when the seconds are zero (most token times), else seconds (observations every few seconds).
  return d.toISOString().replace('T', ' ').replace(/:00\.\d{3}Z$/, 'Z').replace(/\.\d{3}Z$/, 'Z');
}

export function fmtSeconds(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '–' : fmtTime(new Date(seconds * 1000).toISOString());
}

/** A section that keeps its height while loading, so results do not push the page around. */
export function Loading({ label }: { label: string }) {
  return html`<p class="loading" role="status" aria-live="polite">${label}…</p>`;
}

export function KeyValues({ rows }: { rows: Array<[string, ComponentChildren]> }) {
  return html`<dl class="kv">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}
