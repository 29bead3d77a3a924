import { BrowserLimits } from '../../src/browser/limits.js';
import { EmblemError } from '../../src/core/errors.js';
import { parsePublicJwk, parsePublicKeyPem, type PublicKey } from '../../src/core/tokens/keys.js';
import { entryOf, parseTrustStoreText, validName, type TrustedKeyEntry } from '../../src/trust/store-format.js';

/**
 * Adds pasted trust material to a store: a whole trust store file (the CLI's format) or one public key (JWK or
 * PEM) with a name. Like `emblem trust add`, nothing is replaced silently: a key already pinned is skipped, a name
 * already used by another key is refused.
 */
export async function importTrustMaterial(
  current: TrustedKeyEntry[],
  text: string,
  name: string,
  added: Date,
): Promise<{ keys: TrustedKeyEntry[]; added: TrustedKeyEntry[]; skipped: string[] }> {
  const trimmed = text.trim();
  if (trimmed.length > BrowserLimits.maxTrustImportBytes) throw new EmblemError('LIMIT_EXCEEDED', `trust material larger than ${BrowserLimits.maxTrustImportBytes} bytes`);
  let incoming: TrustedKeyEntry[];
  let parsed: unknown = null;
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(trimmed) as unknown;
    } catch {
      throw new EmblemError('TRUST_STORE_INVALID', 'not JSON: paste a trust store file, a public JWK or a PEM public key');
    }
  }
  if (parsed && typeof parsed === 'object' && 'keys' in parsed && 'version' in parsed) {
    incoming = parseTrustStoreText(trimmed, 'the imported trust store');
  } else {
    let key: PublicKey;
    if (parsed && typeof parsed === 'object') {
      const { d: _d, kid: _kid, ...pub } = parsed as Record<string, unknown>;
      key = parsePublicJwk(pub);
    } else if (trimmed.includes('-----BEGIN PUBLIC KEY-----')) {
      key = await parsePublicKeyPem(trimmed);
    } else {
      throw new EmblemError('KEY_INVALID', 'not a trust store file, a public JWK or a PEM public key');
    }
    incoming = [entryOf(key, validName(name.trim()), { added: added.toISOString() })];
  }
  const keys = [...current];
  const addedEntries: TrustedKeyEntry[] = [];
  const skipped: string[] = [];
  for (const e of incoming) {
    const same = keys.find((k) => k.kid === e.kid);
    if (same) {
      skipped.push(`${e.name}: already pinned as ${JSON.stringify(same.name)}`);
      continue;
    }
    const named = keys.find((k) => k.name === e.name);
    if (named) throw new EmblemError('TRUST_NAME_EXISTS', `a key named ${JSON.stringify(e.name)} is already pinned (kid ${named.kid}): remove it first or choose another name`);
    keys.push(e);
    addedEntries.push(e);
  }
  return { keys, added: addedEntries, skipped };
}
