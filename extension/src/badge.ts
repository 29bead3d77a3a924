import type { HostCheck } from '../../src/browser/host-check.js';

export interface Badge {
  text: string;
  color: string;
  /** The action's tooltip: the level in words. */
  title: string;
}

const SHORT: Record<string, string> = { ENDORSED: 'END', ORGANIZATIONAL: 'ORG', SIGNED: 'SIG' };
const GREEN = '#1a7f37';
const AMBER = '#9a6700';
const RED = '#cf222e';
const GREY = '#57606a';

/** The level without its -TRUSTED/-UNTRUSTED suffix, shortened to fit a badge (4 characters at most). */
function short(level: string): string {
  return SHORT[level.replace(/-(UN)?TRUSTED$/, '')] ?? level.slice(0, 3);
}

/**
 * The badge for a page: the level when a valid emblem names the host (green when trusted, amber when untrusted),
 * "?" appended when a CT commitment could not be checked (the level is what was proven without it), INV in red for
 * records that do not verify, nothing when the host has no emblem.
 */
export function badgeFor(state: 'off' | 'checking' | 'done', result: HostCheck | undefined): Badge {
  if (state === 'off') return { text: '', color: GREY, title: 'Emblem: off (choose a DNS-over-HTTPS resolver in the options to check sites)' };
  if (state === 'checking' || !result) return { text: '…', color: GREY, title: 'Emblem: checking…' };
  const level = result.level ?? '';
  switch (result.status) {
    case 'protected':
      return { text: short(level), color: level.endsWith('-UNTRUSTED') ? AMBER : GREEN, title: `Emblem: ${level} (${result.target})` };
    case 'indeterminate':
      return { text: `${short(level)}?`, color: GREY, title: `Emblem: ${level} proven; a stronger level needs a CT commitment that was not checked (${result.target})` };
    case 'contested':
      return { text: 'INV', color: RED, title: `Emblem: INVALID (several emblems; one alone would reach ${level}) (${result.target})` };
    case 'not-covered':
      return { text: 'N/C', color: AMBER, title: `Emblem: a valid emblem is published at ${result.target} but it does not name this host` };
    case 'expired':
      return { text: 'INV', color: RED, title: `Emblem: INVALID (expired or not yet valid) (${result.target})` };
    case 'invalid':
      return { text: 'INV', color: RED, title: `Emblem: INVALID (${result.target})` };
    case 'no-emblem':
    case 'nxdomain':
      return { text: '', color: GREY, title: `Emblem: no emblem at ${result.target}` };
    case 'error':
    default:
      return { text: 'ERR', color: GREY, title: `Emblem: lookup failed (${result.errors.map((e) => e.code).join(', ') || 'unknown'}); not checked` };
  }
}
