import { labelKeyToBytes, nameLabels, wireLength, type NameKey } from './domain-name-text.js';

export * from './domain-name-text.js';

/** Uncompressed wire form of a name. */
export function nameToWire(key: NameKey): Buffer {
  const parts: number[] = [];
  for (const label of nameLabels(key)) {
    const bytes = labelKeyToBytes(label);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  return Buffer.from(parts);
}

export function nameWireLength(key: NameKey): number {
  return wireLength(key);
}

