import type { Command } from 'commander';
import { ExitCode, UsageError } from '../exit.js';

interface CommonFlags {
  json?: boolean;
}

/** Reads a small text file for a flag; unreadable is a usage error. */
async function readText(path: string, flag: string, maxBytes: number): Promise<string> {
  const { readFile, stat } = await import('node:fs/promises');
  try {
    if ((await stat(path)).size > maxBytes) throw new UsageError(`${flag}: ${path} is larger than ${maxBytes} bytes`, 'LIMIT_EXCEEDED');
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** "Could not check" codes (the log is missing or unreadable) against "checked and failed" ones. */
const UNAVAILABLE = new Set(['EVIDENCE_UNAVAILABLE']);

export function registerEvidence(program: Command): void {
  const evidence = program
    .command('evidence')
    .description('the observatory\'s tamper-evident evidence log: export, verify offline and audit observations')
    .addHelpText(
      'after',
      `
The log (C2SP tlog-tiles with signed-note checkpoints, Ed25519 key of the observatory) is written by
\`emblem observe\`; its format is described in docs/evidence.md. The observer's public key is
EVIDENCE_DIR/observer.pub ("<name>+<hash>+<base64 key>").

Examples:
  emblem evidence export --config observe.yaml --target clinic.example --at 2026-11-01T12:00:00Z --out bundle.json
  emblem evidence verify bundle.json --observer-key observer.pub
  emblem evidence audit --config observe.yaml --from old-checkpoint.txt`,
    );

  evidence
    .command('export')
    .description('write a bundle: the observations of a target around a time, with inclusion proofs and the signed checkpoint')
    .requiredOption('--config <file>', 'the observe config (YAML; its evidenceDir is read)')
    .requiredOption('--target <name>', 'the observed name')
    .requiredOption('--at <time>', 'ISO-8601 time: per vantage point the last observation at or before it and the next one after it')
    .option('--following <n>', 'observations after --at per vantage point (1..16)', '1')
    .option('--out <file>', 'write the bundle here (default: stdout); an existing file is kept unless --force')
    .option('--force', 'replace an existing --out file (the old one is kept as NAME.replaced-<time>)')
    .option('--json', 'print a JSON summary ({"out", "entries", "treeSize"}); without --out the bundle itself is JSON')
    .addHelpText('after', '\nExit codes: 0 written; 1 no observation of the target (EVIDENCE_NOT_FOUND); 2 usage; 3 the log could not be read (EVIDENCE_UNAVAILABLE, EVIDENCE_LOG_CORRUPT).')
    .action(async (opts: CommonFlags & { config: string; target: string; at: string; following: string; out?: string; force?: boolean }) => {
      const { parseTime } = await import('../duration.js');
      const at = parseTime(opts.at, '--at');
      const following = Number(opts.following);
      if (!Number.isInteger(following) || following < 1 || following > 16) throw new UsageError('--following must be 1..16');
      const { readEvidenceConfig } = await import('../../evidence/config.js');
      const { exportEvidenceBundle, serializeBundle } = await import('../../evidence/bundle.js');
      const config = await readEvidenceConfig(opts.config);
      let bundle;
      try {
        bundle = await exportEvidenceBundle({ evidenceDir: config.evidenceDir, target: opts.target.replace(/\.$/, '').toLowerCase(), at, following });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'INTERNAL';
        process.stderr.write(`emblem: ${(err as Error).message} [${code}]\n`);
        if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message: (err as Error).message } })}\n`);
        process.exitCode = code === 'EVIDENCE_NOT_FOUND' ? ExitCode.NOT_VALID : ExitCode.INDETERMINATE;
        return;
      }
      const text = serializeBundle(bundle);
      if (opts.out === undefined) {
        process.stdout.write(text);
        return;
      }
      const { writeFileKeepingOld } = await import('../../store/replace-file.js');
      const { keptAs } = await writeFileKeepingOld(opts.out, text, { mode: 0o644, replace: opts.force === true, now: new Date() });
      const treeSize = Number(bundle.checkpoint.split('\n')[1]);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, out: opts.out, entries: bundle.entries.length, treeSize, ...(keptAs ? { keptAs } : {}) })}\n`);
      else process.stdout.write(`Wrote ${opts.out}: ${bundle.entries.length} observation(s) of ${bundle.target}, proven in the checkpoint of ${treeSize} entries${keptAs ? ` (old file kept as ${keptAs})` : ''}\n`);
    });

  evidence
    .command('verify')
    .description('verify a bundle offline: checkpoint signature, inclusion proofs, and the ADEM verification of the raw DNS answers at their recorded time')
    .argument('<bundle>', 'the bundle JSON written by `emblem evidence export`')
    .requiredOption('--observer-key <file>', 'the observer\'s public key (EVIDENCE_DIR/observer.pub, signed-note verifier key format)')
    .option('--json', 'print the JSON report: {"ok", "checkpoint", "entries": [{"leafIndex", "vantagePoint", "time", "recordedStatus", "recomputedStatus", "ok", "errors"}], "errors", "notes"}')
    .addHelpText(
      'after',
      `
Works without any network: root-key commitments in CT cannot be checked offline and are skipped (the report says so).
Exit codes: 0 everything verified; 1 verification failed (any altered byte: EVIDENCE_* codes in the report);
2 usage or unreadable files.`,
    )
    .action(async (bundlePath: string, opts: CommonFlags & { observerKey: string }) => {
      const { EvidenceLimits } = await import('../../evidence/limits.js');
      const bundleText = await readText(bundlePath, 'bundle', EvidenceLimits.maxBundleBytes);
      const keyText = await readText(opts.observerKey, '--observer-key', 4096);
      const { verifyEvidenceBundle } = await import('../../evidence/bundle.js');
      const r = await verifyEvidenceBundle(bundleText, keyText);
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const lines: string[] = [];
        lines.push(r.ok ? `VERIFIED: ${r.entries.length} observation(s) of ${r.target}` : `NOT VERIFIED${r.target ? `: bundle for ${r.target}` : ''}`);
        if (r.checkpoint) lines.push(`Checkpoint: ${r.checkpoint.origin}, ${r.checkpoint.size} entries, root ${r.checkpoint.rootHash}, signed by ${r.checkpoint.observer}`);
        for (const e of r.errors) lines.push(`  ${e.code}: ${e.message}`);
        for (const e of r.entries) {
          lines.push(`  #${e.leafIndex} ${e.time ?? '?'} ${e.vantagePoint ?? '?'}: recorded ${e.recordedStatus ?? '?'}, re-verified ${e.recomputedStatus ?? '(observation failed, nothing to re-verify)'} ${e.ok ? 'OK' : 'FAILED'}`);
          if (e.trustedKeys.length) lines.push(`      trusted keys the observer pinned: ${e.trustedKeys.map((k) => JSON.stringify(k)).join(', ')}`);
          for (const x of e.errors) lines.push(`      ${x.code}: ${x.message}`);
        }
        for (const n of r.notes) lines.push(`Note: ${n}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = r.ok ? ExitCode.OK : ExitCode.NOT_VALID;
    });

  evidence
    .command('audit')
    .description('prove that the log\'s current checkpoint is consistent with an older one (append-only, no rewritten history)')
    .requiredOption('--config <file>', 'the observe config (YAML; its evidenceDir is read)')
    .requiredOption('--from <checkpoint-file>', 'an older checkpoint of this log (saved from /checkpoint or a bundle)')
    .option('--json', 'print {"ok", "origin", "from", "to", "proof", "errors"}')
    .addHelpText('after', '\nExit codes: 0 consistent; 1 not consistent, or a checkpoint or tile fails its check (EVIDENCE_* code); 2 usage; 3 could not check (no published checkpoint or log files missing: EVIDENCE_UNAVAILABLE).')
    .action(async (opts: CommonFlags & { config: string; from: string }) => {
      const { EvidenceLimits } = await import('../../evidence/limits.js');
      const fromText = await readText(opts.from, '--from', EvidenceLimits.maxNoteBytes);
      const { readEvidenceConfig } = await import('../../evidence/config.js');
      const { auditEvidence } = await import('../../evidence/bundle.js');
      const config = await readEvidenceConfig(opts.config);
      const r = await auditEvidence({ evidenceDir: config.evidenceDir, fromCheckpointText: fromText });
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.ok) process.stdout.write(`CONSISTENT: ${r.origin} grew from ${r.from!.size} to ${r.to!.size} entries without rewriting history (${r.proof.length} proof hashes)\n`);
      else process.stdout.write(`NOT PROVEN CONSISTENT\n${r.errors.map((e) => `  ${e.code}: ${e.message}`).join('\n')}\n`);
      process.exitCode = r.ok ? ExitCode.OK : r.errors.some((e) => UNAVAILABLE.has(String(e.code))) ? ExitCode.INDETERMINATE : ExitCode.NOT_VALID;
    });
}
