import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBase64, toBase64 } from '../bytes.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { TimestampedEntry } from '../merkle-tree-leaf.js';

/** One logged submission: the entry that is hashed, plus what the read APIs must serve alongside it. */
export interface LocalLogEntry {
  entry: TimestampedEntry;
  /** add-pre-chain only: the full precertificate as submitted. */
  preCertificate?: Uint8Array;
  /** The chain after the leaf, up to and including the accepted root (DER). */
  chain: Uint8Array[];
}

interface StoredEntry {
  t: number;
  type: 'x509' | 'precert';
  cert: string;
  ikh?: string;
  ext: string;
  pre?: string;
  chain: string[];
}

const ENTRIES_FILE = 'entries.json';
export const KEY_FILE = 'log-key.pem';

function encode(e: LocalLogEntry): StoredEntry {
  return {
    t: e.entry.timestamp,
    type: e.entry.entryType,
    cert: toBase64(e.entry.certificate),
    ...(e.entry.issuerKeyHash ? { ikh: toBase64(e.entry.issuerKeyHash) } : {}),
    ext: toBase64(e.entry.extensions),
    ...(e.preCertificate ? { pre: toBase64(e.preCertificate) } : {}),
    chain: e.chain.map(toBase64),
  };
}

function decode(s: StoredEntry): LocalLogEntry {
  const bytes = (v: string | undefined) => {
    const b = fromBase64(v ?? '');
    if (!b) throw new Error('corrupt entry in local log state');
    return b;
  };
  const entry: TimestampedEntry = {
    timestamp: s.t,
    entryType: s.type,
    certificate: bytes(s.cert),
    extensions: bytes(s.ext),
    ...(s.ikh ? { issuerKeyHash: bytes(s.ikh) } : {}),
  };
  return { entry, ...(s.pre ? { preCertificate: bytes(s.pre) } : {}), chain: s.chain.map(bytes) };
}

/**
 * Persists the local log's entries in `<dir>/entries.json`, rewritten atomically (temp file, fsync, rename) after
 * every sequenced batch: a crash leaves the previous tree, never a torn one. The tree itself is rebuilt from the
 * entries at start (hashing is cheap next to the I/O at test and demo scale).
 */
export class LocalLogStore {
  constructor(readonly dir: string) {}

  async load(): Promise<LocalLogEntry[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, ENTRIES_FILE), 'utf8');
    } catch {
      return [];
    }
    return (JSON.parse(text) as StoredEntry[]).map(decode);
  }

  async save(entries: readonly LocalLogEntry[]): Promise<void> {
    await writeFileAtomic(join(this.dir, ENTRIES_FILE), `[\n${entries.map((e) => JSON.stringify(encode(e))).join(',\n')}\n]\n`);
  }

  async loadKey(): Promise<string | null> {
    try {
      return await readFile(join(this.dir, KEY_FILE), 'utf8');
    } catch {
      return null;
    }
  }

  async saveKey(pem: string): Promise<void> {
    // The log's signing key: owner-only.
    await writeFileAtomic(join(this.dir, KEY_FILE), pem, 0o600);
  }
}
