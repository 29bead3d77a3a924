import type { VerificationReport, Level } from '../../src/core/verify/report.js';
import type { Token } from '../../src/core/tokens/token.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { base64Encode, hexEncode } from '../../src/core/encoding.js';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { html } from './html.js';
import { Badge, ErrorList, fmtSeconds, fmtTime } from './components.js';

/**
 * The chain drawing: emblem -> emblem key -> root key -> endorsing authorities. Levels, commitment and errors come
 * from the server's verification report (never recomputed here); when the tokens themselves are at hand (pasted on
 * the Check page) they are decoded with the browser-safe core, only to show each node's claims (issuer, validity,
 * CT log pointers). Nothing decoded here is trusted: it is labelled as the token's claim.
 */

export interface LogEntryView {
  logId: string;
  index: number | null;
  leafHash: string | null;
}

export interface ChainNode {
  role: 'emblem' | 'emblem key' | 'root key' | 'authority';
  title: string;
  kid: string | null;
  detail: string[];
  validity: { from: string; to: string } | null;
  level: Level;
  state: 'reached' | 'not established' | 'failed' | 'not reached';
  logs: LogEntryView[];
  commitment: string | null;
}

function decodeTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let parsed;
  try {
    parsed = parseMaterialText(text, 'pasted');
  } catch {
    return tokens;
  }
  for (const m of parsed.material) {
    try {
      if (m.kind === 'jws') tokens.push(parseJwsToken(m.text));
      else if (m.kind === 'cwt') tokens.push(parseCwtToken(m.bytes));
    } catch {
      // unparseable tokens are reported by the server's verification; the drawing just lacks their claims
    }
  }
  return tokens;
}

function logViews(t: Token | undefined): LogEntryView[] {
  return (t?.claims.log ?? []).map((p) => ({
    logId: base64Encode(p.id),
    index: p.index ?? null,
    leafHash: p.hash ? hexEncode(p.hash) : null,
  }));
}

function nodeState(report: VerificationReport, level: Level): ChainNode['state'] {
  if (report.levels.includes(level)) return 'reached';
  if (report.notEstablished?.some((n) => n.level === level)) return 'not established';
  const order: Level[] = ['SIGNED', 'ORGANIZATIONAL', 'ENDORSED'];
  const prev = order[order.indexOf(level) - 1];
  // The first level not reached is where verification failed; the ones above it were never tried.
  if (prev === undefined || report.levels.includes(prev)) return report.errors.length ? 'failed' : 'not reached';
  return 'not reached';
}

const window = (from: number, to: number) => ({ from: fmtSeconds(from), to: fmtSeconds(to) });

export function chainNodes(report: VerificationReport, tokenText?: string): ChainNode[] {
  const tokens = tokenText ? decodeTokens(tokenText) : [];
  const emblemTok = tokens.find((t) => t.kind === 'emblem' && (!report.emblem || t.headerKid === null || t.headerKid === report.emblem.chain[0]));
  const ends = tokens.filter((t) => t.kind === 'endorsement');
  const chain = report.emblem?.chain ?? [];
  const emblemKid = chain[0] ?? emblemTok?.headerKid ?? null;
  const rootKid = chain.length > 1 ? chain[chain.length - 1]! : null;
  // Internal endorsements: signed by a key of the chain; external: endorsing the root key, signed by someone else.
  const internal = ends.filter((t) => t.headerKid !== null && chain.slice(1).includes(t.headerKid));
  const rootEnd = internal.find((t) => t.headerKid === rootKid);
  const external = ends.filter((t) => rootKid !== null && t.claims.key === rootKid && t.headerKid !== rootKid);

  const nodes: ChainNode[] = [];
  const e = report.emblem;
  nodes.push({
    role: 'emblem',
    title: 'Emblem',
    kid: null,
    detail: [
      `assets: ${(report.protected.length ? report.protected : emblemTok?.claims.assets ?? []).join(', ') || '–'}`,
      ...(e ? [`purposes: ${e.purposes.join(', ') || '–'}`] : []),
      ...(report.issuer ? [`issuer: ${report.issuer}`] : emblemTok?.claims.iss ? [`iss (claimed): ${emblemTok.claims.iss}`] : []),
    ],
    validity: e ? { from: fmtTime(e.notBefore), to: fmtTime(e.expires) } : emblemTok ? window(emblemTok.claims.nbf, emblemTok.claims.exp) : null,
    level: 'SIGNED',
    state: nodeState(report, 'SIGNED'),
    logs: [],
    commitment: null,
  });
  nodes.push({
    role: 'emblem key',
    title: 'Emblem key',
    kid: emblemKid,
    detail: chain.length > 2 ? [`via ${chain.length - 2} intermediate key(s): ${chain.slice(1, -1).join(', ')}`] : [],
    // The window in which the root key vouches for this key (the internal endorsement naming it).
    validity: (() => {
      const t = internal.find((x) => x.claims.key === emblemKid);
      return t ? window(t.claims.nbf, t.claims.exp) : null;
    })(),
    level: 'SIGNED',
    state: nodeState(report, 'SIGNED'),
    logs: [],
    commitment: null,
  });
  if (rootKid || report.issuer) {
    nodes.push({
      role: 'root key',
      title: 'Root key',
      kid: rootKid,
      detail: [report.issuer ? `organisation: ${report.issuer}` : 'no issuer (iss) in the emblem'],
      // How long an authority vouches for the root key (its endorsement's window), when one does.
      validity: external[0] ? window(external[0].claims.nbf, external[0].claims.exp) : null,
      level: 'ORGANIZATIONAL',
      state: nodeState(report, 'ORGANIZATIONAL'),
      logs: logViews(rootEnd),
      commitment: report.commitment,
    });
  }
  const endorsers = new Set<string>([...report.endorsedBy, ...external.map((t) => t.claims.iss ?? '').filter(Boolean)]);
  for (const org of endorsers) {
    const t = external.find((x) => x.claims.iss === org);
    const survived = report.endorsedBy.includes(org);
    nodes.push({
      role: 'authority',
      title: `Authority ${org}`,
      kid: t?.headerKid ?? null,
      detail: [survived ? 'endorsement accepted' : 'endorsement did not survive verification', ...(t?.claims.end ? ['end: true (may not be endorsed further)'] : [])],
      validity: t ? window(t.claims.nbf, t.claims.exp) : null,
      level: 'ENDORSED',
      state: survived ? nodeState(report, 'ENDORSED') : nodeState(report, 'ENDORSED') === 'reached' ? 'failed' : nodeState(report, 'ENDORSED'),
      logs: logViews(t),
      commitment: null,
    });
  }
  return nodes;
}

const STATE_TONE: Record<ChainNode['state'], string> = { reached: 'good', 'not established': 'partial', failed: 'bad', 'not reached': 'none' };

/** Log ID (base64) -> the log list's description, fetched once per page load from GET /api/ct/logs. */
let logNames: Promise<Map<string, string>> | null = null;
function fetchLogNames(): Promise<Map<string, string>> {
  logNames ??= getJson<{ logs: { id: string; description: string }[] }>('/api/ct/logs').then(
    (r) => new Map(r.logs.map((l) => [l.id, l.description])),
    () => new Map(), // without names the drawing shows log IDs, as before
  );
  return logNames;
}

function useLogNames(wanted: boolean): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    void fetchLogNames().then((n) => live && setNames(n));
    return () => void (live = false);
  }, [wanted]);
  return names;
}

export function ChainDrawing({ report, tokenText }: { report: VerificationReport; tokenText?: string }) {
  const nodes = chainNodes(report, tokenText);
  const names = useLogNames(nodes.some((n) => n.logs.length > 0));
  return html`<figure class="chain-figure">
    <figcaption>Chain: emblem → emblem key → root key → endorsing authorities</figcaption>
    <ol class="chain">
      ${nodes.map(
        (n) => html`<li class=${`node tone-${STATE_TONE[n.state]}`}>
          <div class="node-head"><strong>${n.title}</strong> <span class="node-level">${n.level}: ${n.state}</span></div>
          ${n.kid ? html`<div class="kid"><span class="muted">kid</span> <code>${n.kid}</code></div>` : null}
          ${n.validity ? html`<div class="validity"><span class="muted">valid</span> ${n.validity.from} → ${n.validity.to}</div>` : null}
          ${n.detail.map((d) => html`<div class="detail">${d}</div>`)}
          ${n.commitment ? html`<div class="commitment"><span class="muted">CT commitment</span> <${Badge} value=${n.commitment === 'verified' ? 'protected' : n.commitment === 'failed' ? 'invalid' : n.commitment === 'unavailable' ? 'indeterminate' : null} label=${n.commitment} /></div>` : null}
          ${n.logs.length
            ? html`<ul class="logs">${n.logs.map((l) => html`<li><span class="muted">log</span> ${names.has(l.logId) ? html`<span class="log-name" title=${l.logId}>${names.get(l.logId)}</span>` : html`<code title=${l.logId}>${l.logId.slice(0, 12)}…</code>`} ${l.index !== null ? html`index <code>${l.index}</code>` : html`leaf hash <code>${(l.leafHash ?? '').slice(0, 16)}…</code>`}</li>`)}</ul>`
            : null}
        </li>`,
      )}
    </ol>
    ${report.notEstablished?.length
      ? html`<${ErrorList} title="Not established (could not be checked)" errors=${report.notEstablished.flatMap((n) => n.codes.map((code) => ({ code, message: `${n.level}${n.issuer ? ` for ${n.issuer}` : ''}: ${n.message}` })))} />`
      : null}
    <${ErrorList} title="Why steps failed" errors=${report.errors.map((x) => ({ code: String(x.code), message: x.message }))} />
  </figure>`;
}
