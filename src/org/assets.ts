import { normalizeUserName, type NameKey } from '../dns/domain-name.js';

/** Where an asset's emblem records live: the domain asset's own name (a wildcard asset at its `*` owner). */
export function ownerName(asset: string): NameKey | null {
  if (asset.startsWith('[')) return null; // address assets have no name of their own to publish at
  try {
    return normalizeUserName(asset);
  } catch {
    return null;
  }
}

/** A name to query when checking an asset: the name itself, or a label under a wildcard. */
export function probeName(asset: string): NameKey | null {
  const owner = ownerName(asset);
  if (owner === null) return null;
  return owner.startsWith('*.') ? `emblem-probe.${owner.slice(2)}` : owner;
}
