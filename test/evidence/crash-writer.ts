/**
 * Child process of crash.test.ts: appends deterministic entries and publishes a checkpoint every `batch` entries,
 * forever, printing {"size", "checkpoint"} after each publish returns. The test kills it with SIGKILL mid-write.
 */
import { openEvidenceLog } from '../../src/evidence/index.js';

export const crashEntry = (i: number): Uint8Array => new TextEncoder().encode(`observation ${i} ${'o'.repeat(i % 97)}`);

async function main(): Promise<void> {
  const [dir, batchText] = process.argv.slice(2);
  const log = await openEvidenceLog(dir!, { origin: 'crash.test/log', now: () => new Date('2026-11-01T12:00:00Z') });
  const batch = Number(batchText ?? 37);
  for (;;) {
    for (let k = 0; k < batch; k++) await log.append(crashEntry(log.size));
    const checkpoint = await log.publishCheckpoint();
    process.stdout.write(`${JSON.stringify({ size: log.publishedSize, checkpoint })}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
