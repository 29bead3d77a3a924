import { EmblemError } from '../core/errors.js';

/** Resource record type codes this adapter knows by name (RFC 1035, RFC 3596, RFC 6891). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

/**
 * DNS-02's IHLE type has no IANA code yet (SPEC-NOTES §1.6). The Go CWT prototype's discovery uses the
 * private-use code 65400 (its CoreDNS plugin uses 65297), so the code is a parameter everywhere, default 65400.
 */
export const DEFAULT_IHLE_TYPE = 65400;

export function parseIhleTypeCode(text: string): number {
  const n = Number(text);
  // Any code 1..65535 that is not a type we already give meaning to.
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535 || Object.values(RRType).includes(n as never)) {
    throw new EmblemError('USAGE', `invalid IHLE type code ${JSON.stringify(text)} (expected 1..65535, e.g. 65400)`);
  }
  return n;
}

/** RRType inverted once: every discovery query is logged by its type name. */
const NAMES_BY_CODE = new Map<number, string>(Object.entries(RRType).map(([name, code]) => [code, name]));

/** Mnemonic for a type code: known names, "IHLE" for the configured code, else RFC 3597 "TYPEnnn". */
export function typeName(code: number, ihleType = DEFAULT_IHLE_TYPE): string {
  if (code === ihleType) return 'IHLE';
  return NAMES_BY_CODE.get(code) ?? `TYPE${code}`;
}

/** Parses "TXT", "ihle", "TYPE65400" or "65400" (case-insensitive) to a code; null when unknown. */
export function parseTypeName(text: string, ihleType = DEFAULT_IHLE_TYPE): number | null {
  const upper = text.toUpperCase();
  if (upper === 'IHLE') return ihleType;
  const known = (RRType as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^(?:TYPE)?(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n >= 1 && n <= 65535) return n;
  }
  return null;
}
