/**
 * Remembers which (token, key) pairs had a valid signature. Keyed by the token's SHA-256 and the signer's kid, so
 * a scan of a million emblems under one authority checks the authority's endorsement signature once. Time
 * validity is not cached: it depends on `now` and is cheap.
 */
export interface SignatureCache {
  get(key: string): boolean | undefined;
  set(key: string, valid: boolean): void;
}

/** A bounded LRU cache (Map keeps insertion order; a hit is re-inserted to mark it recent). */
export function createSignatureCache(maxEntries = 100_000): SignatureCache {
  const entries = new Map<string, boolean>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, valid) {
      entries.delete(key);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, valid);
    },
  };
}
