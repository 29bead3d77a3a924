import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { auditEvidence, openEvidenceLog, parseCheckpoint } from '../../src/evidence/index.js';
import { TileTreeReader } from '../../src/evidence/tile-reader.js';
import { crashEntry } from './crash-writer.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the writer until it has published `publishes` checkpoints plus `extraMs`, then SIGKILLs it; returns what it reported. */
async function runAndKill(dir: string, publishes: number, extraMs: number): Promise<{ size: number; checkpoint: string }[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, '37'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reported: { size: number; checkpoint: string }[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer made no progress: ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString('utf8');
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          reported.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
        if (reported.length >= publishes) {
          clearTimeout(timer);
          setTimeout(resolve, extraMs);
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  return reported;
}

describe('evidence log crash safety', () => {
  for (const [crashes, extraMs] of [[1, 0], [2, 9]] as const) {
    it(`kill -9 mid-write (${crashes} crash${crashes > 1 ? 'es' : ''}), reopen, publish: consistent with the last published checkpoint, nothing lost`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'emblem-evidence-crash-'));
      dirs.push(dir);
      const first = await runAndKill(dir, 4, extraMs);
      // A second crash on top of the first: a writer that resumed from a crashed log is crashed into as well.
      const second = crashes > 1 ? await runAndKill(dir, 2, extraMs * 2) : [];
      const lastAcknowledged = second.at(-1) ?? first.at(-1)!;

      const log = await openEvidenceLog(dir, { now: () => new Date('2026-11-01T12:00:00Z') });
      const temps = (d: string): string[] => readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.tmp'));
      assert.deepEqual(temps(dir), [], 'temp files of the crashed publish are removed');
      assert.ok(log.size >= lastAcknowledged.size, `reopened at ${log.size}, below the acknowledged ${lastAcknowledged.size}`);
      await log.append(crashEntry(log.size));
      const text = await log.publishCheckpoint();
      await log.close();
      const cp = parseCheckpoint(text);

      for (const acknowledged of [...first, ...second]) {
        const audit = await auditEvidence({ evidenceDir: dir, fromCheckpointText: acknowledged.checkpoint });
        assert.equal(audit.ok, true, `checkpoint of ${acknowledged.size}: ${JSON.stringify(audit.errors)}`);
      }
      // Every entry the acknowledged checkpoint covers is still there, byte for byte.
      const reader = new TileTreeReader(dir, cp.size);
      for (let b = 0; b * 256 < lastAcknowledged.size; b++) {
        const entries = await reader.entryBundle(b);
        entries.forEach((e, k) => assert.deepEqual(e, crashEntry(b * 256 + k), `entry ${b * 256 + k}`));
      }
    });
  }
});
