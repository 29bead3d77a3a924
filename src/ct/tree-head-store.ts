import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../store/atomic-write.js';
import { fromBase64, toBase64 } from './bytes.js';
import { TreeHeadHistory } from './tree-head-history.js';

export type { ConsistencyProver } from './tree-head-history.js';

/** TreeHeadHistory, optionally persisted, so the memory survives between CLI runs. */
export class TreeHeadStore extends TreeHeadHistory {
  constructor(private readonly file: string | null = null) {
    super();
    if (file) {
      try {
        const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { treeSize: number; timestamp: number; rootHash: string }>;
        for (const [id, h] of Object.entries(json)) {
          const root = fromBase64(h.rootHash);
          if (root && Number.isSafeInteger(h.treeSize)) this.heads.set(id, { treeSize: h.treeSize, timestamp: h.timestamp, rootHash: root });
        }
      } catch {
        /* no state yet, or unreadable: start empty */
      }
    }
  }

  protected override async remembered(): Promise<void> {
    if (!this.file) return;
    const json: Record<string, unknown> = {};
    for (const [id, h] of this.heads) json[id] = { treeSize: h.treeSize, timestamp: h.timestamp, rootHash: toBase64(h.rootHash) };
    const file = this.file;
    await mkdir(dirname(file), { recursive: true })
      .then(() => writeFileAtomic(file, JSON.stringify(json, null, 1)))
      .catch(() => undefined); // memory still holds the head; only cross-run fork detection is lost
  }
}
