/** Tagged templates for preact: no JSX build step, no eval (htm parses each template once and caches it). */
export { html } from 'htm/preact';
