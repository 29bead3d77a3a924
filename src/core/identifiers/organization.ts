import { EmblemError } from '../errors.js';
import { parseDomainLabels } from './domain.js';

/** An organisation identifier (OI): "https://" + lower-case host, nothing else (CORE-01 §3, tightened in CORE-02). */
export interface OrganizationIdentifier {
  text: string;
  host: string;
}

export function parseOrganizationIdentifier(text: unknown): OrganizationIdentifier {
  if (typeof text !== 'string') throw new EmblemError('IDENTIFIER_INVALID', 'organisation identifier must be a string');
  const m = /^https:\/\/([^/?#:@\s]+)$/.exec(text);
  if (!m) {
    throw new EmblemError(
      'IDENTIFIER_INVALID',
      `organisation identifier must be "https://" followed by a host only, got ${JSON.stringify(text.slice(0, 100))}`,
    );
  }
  const host = m[1]!;
  if (host !== host.toLowerCase()) {
    throw new EmblemError('IDENTIFIER_INVALID', `organisation identifier must be lower case: ${text}`);
  }
  if (host.endsWith('.')) throw new EmblemError('IDENTIFIER_INVALID', `organisation identifier has a trailing dot: ${text}`);
  parseDomainLabels(host);
  return { text, host };
}

export function isOrganizationIdentifier(text: unknown): boolean {
  try {
    parseOrganizationIdentifier(text);
    return true;
  } catch {
    return false;
  }
}
