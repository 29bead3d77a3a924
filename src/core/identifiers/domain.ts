import { EmblemError } from '../errors.js';

/** Letters, digits, hyphen and underscore (service labels), 1-63 octets, not starting or ending with "-". */
const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;

/**
 * Parses a DNS name into lower-case labels. Case-insensitive (RFC 4343); a trailing dot is accepted and dropped.
 * Only ASCII names: internationalised names must be given in their xn-- form.
 */
export function parseDomainLabels(text: string): string[] {
  let name = text.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253) {
    throw new EmblemError('IDENTIFIER_INVALID', `domain name length out of range: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw new EmblemError('IDENTIFIER_INVALID', `invalid domain label ${JSON.stringify(label.slice(0, 80))}`);
    }
  }
  return labels;
}

export function normalizeDomain(text: string): string {
  return parseDomainLabels(text).join('.');
}
