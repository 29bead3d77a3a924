import { createHash } from 'node:crypto';
import { EmblemError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { parseCwtToken } from '../core/tokens/cwt.js';
import { parseJwsToken } from '../core/tokens/jws.js';
import type { PublicKey } from '../core/tokens/keys.js';
import type { Token } from '../core/tokens/token.js';
import { loadPublicKeys, type MaterialParser } from '../core/verify/index.js';
import { ScanLimits } from './limits.js';

type Parsed<T> = { ok: T } | { error: EmblemError };

/**
 * Parsed tokens and keys of a scan, by content hash. Across millions of targets the same endorsements and keys
 * arrive with every emblem of an organisation or authority; parsing them (base64, JSON, JWK thumbprints) cost more
 * than half of a warm-cache verification in profiles, so each verification thread parses each distinct item once.
 * Failures are remembered too (a broken record repeated at many names is rejected once). Bounded LRU.
 * Pass it to verifyMaterial as `parser`: the verification itself is the core's, unchanged.
 */
export class ParsedMaterialCache implements MaterialParser {
  private readonly entries = new Map<string, Parsed<Token> | Parsed<PublicKey[]>>();

  constructor(private readonly maxEntries: number = ScanLimits.parsedMaterialCacheEntries) {}

  private lookup(key: string): Parsed<Token> | Parsed<PublicKey[]> | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  private store<T extends Parsed<Token> | Parsed<PublicKey[]>>(key: string, value: T): T {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }

  token(item: Material & { kind: 'jws' | 'cwt' }): Token {
    const parsed = this.parsedToken(item);
    if ('error' in parsed) throw parsed.error;
    return parsed.ok;
  }

  async keys(item: Material): Promise<PublicKey[]> {
    const parsed = await this.parsedKeys(item);
    if ('error' in parsed) throw parsed.error;
    return parsed.ok;
  }

  private parsedToken(item: Material & { kind: 'jws' | 'cwt' }): Parsed<Token> {
    const h = createHash('sha256');
    if (item.kind === 'jws') h.update('jws\0').update(item.text);
    else h.update('cwt\0').update(item.bytes);
    const key = h.digest('base64');
    const hit = this.lookup(key) as Parsed<Token> | undefined;
    if (hit) return hit;
    try {
      return this.store(key, { ok: item.kind === 'jws' ? parseJwsToken(item.text) : parseCwtToken(item.bytes) });
    } catch (err) {
      return this.store(key, { error: asEmblemError(err, 'TOKEN_MALFORMED') });
    }
  }

  private async parsedKeys(item: Material): Promise<Parsed<PublicKey[]>> {
    let text: string | null = null;
    try {
      if (item.kind === 'jwk') text = `jwk\0${JSON.stringify(item.jwk)}`;
      else if (item.kind === 'cose-key') text = `cose\0${Buffer.from(item.bytes).toString('base64')}`;
      else if (item.kind === 'spki-pem') text = `pem\0${item.pem}`;
    } catch {
      text = null; // not serialisable (never from DNS): parse without caching
    }
    const key = text === null ? null : createHash('sha256').update(text).digest('base64');
    const hit = key === null ? undefined : (this.lookup(key) as Parsed<PublicKey[]> | undefined);
    if (hit) return hit;
    let value: Parsed<PublicKey[]>;
    try {
      value = { ok: await loadPublicKeys(item) };
    } catch (err) {
      value = { error: asEmblemError(err, 'TOKEN_MALFORMED') };
    }
    return key === null ? value : this.store(key, value);
  }
}

/** Parse failures keep their code; anything else becomes `fallback`, as verifyMaterial reports it. */
function asEmblemError(err: unknown, fallback: string): EmblemError {
  return err instanceof EmblemError ? err : new EmblemError(fallback, String((err as Error)?.message ?? err));
}
