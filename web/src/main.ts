import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { getJson, type Features } from './api.js';
import { interceptLinks, navigate, useLocation } from './router.js';
import { CheckPage } from './pages/check.js';
import { OrgPage } from './pages/org.js';
import { AuthorityPage } from './pages/authority.js';
import { ObservatoryPage } from './pages/observatory.js';
import { ScanPage } from './pages/scan.js';

const PAGES = [
  { path: '/check', label: 'Check', feature: null },
  { path: '/scan', label: 'Scan', feature: null },
  { path: '/org', label: 'Organisation', feature: 'org' },
  { path: '/authority', label: 'Authority', feature: 'authority' },
  { path: '/observatory', label: 'Observatory', feature: 'observatory' },
] as const;

function Disabled({ label, flag }: { label: string; flag: string }) {
  return html`<section><h1>${label}</h1><p class="card">This server was started without ${flag}, so the ${label.toLowerCase()} pages are off. Start <code>emblem serve</code> with its folder or config to enable them.</p></section>`;
}

function App() {
  const { path, search } = useLocation();
  const [features, setFeatures] = useState<Features | null>(null);
  useEffect(() => {
    getJson<Features>('/api/features').then(setFeatures, () => setFeatures({ org: false, authority: false, observatory: false }));
  }, []);
  useEffect(() => {
    if (path === '/' || path === '/index.html') navigate(`/check${location.search}`, true);
  }, [path]);
  const page = PAGES.find((p) => p.path === path);
  useEffect(() => {
    document.title = page ? `${page.label} · Emblem` : 'Emblem';
  }, [page]);

  let body;
  if (page && page.feature && features && !features[page.feature]) body = html`<${Disabled} label=${page.label} flag=${`--${page.feature}`} />`;
  else if (path === '/check' || path === '/' || path === '/index.html') body = html`<${CheckPage} search=${search} />`;
  else if (path === '/scan') body = html`<${ScanPage} search=${search} />`;
  else if (path === '/org') body = html`<${OrgPage} search=${search} />`;
  else if (path === '/authority') body = html`<${AuthorityPage} />`;
  else if (path === '/observatory') body = html`<${ObservatoryPage} search=${search} />`;
  else body = html`<section><h1>Not found</h1><p>No page at ${path}. <a href="/check">Check a name</a>.</p></section>`;

  return html`<div class="layout">
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/check" aria-label="Emblem home">Emblem</a>
      <nav aria-label="Pages"><ul>
        ${PAGES.map((p) => html`<li><a href=${p.path} aria-current=${p.path === path ? 'page' : undefined} class=${p.feature && features && !features[p.feature] ? 'off' : ''}>${p.label}</a></li>`)}
      </ul></nav>
    </header>
    <main id="main" tabindex="-1">${body}</main>
    <footer class="muted">Verification runs on the server you opened; this page only shows its answers.</footer>
  </div>`;
}

const root = document.getElementById('app')!;
interceptLinks(root);
render(html`<${App} />`, root);
