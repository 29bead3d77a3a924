import type { OrgCertCommandResult } from '../org/cert-command.js';
import { UsageError } from './exit.js';
import { readPassphrase } from './inputs.js';

/** Flags shared by `emblem org cert` and `emblem authority cert`. */
export interface AcmeCertFlags {
  dir: string;
  acmeDirectory: string;
  acmeCa?: string;
  ctLog?: string[];
  propagationDelay: string;
  passphraseFile?: string;
  json?: boolean;
}

export interface AcmeCertRequest {
  dir: string;
  directoryUrl: string;
  acmeCaPem?: string;
  passphrase?: string;
  propagationDelayMs?: number;
  ctLogUrls?: string[];
}

/**
 * The action of both `cert` commands: checks the flags, runs `obtain` (org or authority folder), prints the result
 * (text, or JSON; on failure `{"ok": false, "error"}` before the error goes to the CLI's exit handling).
 */
export async function runAcmeCertAction(opts: AcmeCertFlags, obtain: (r: AcmeCertRequest) => Promise<OrgCertCommandResult>, next: string): Promise<void> {
  const delay = Number(opts.propagationDelay);
  if (!Number.isFinite(delay) || delay < 0 || delay > 3600) throw new UsageError('--propagation-delay: seconds between 0 and 3600');
  let acmeCaPem: string | undefined;
  if (opts.acmeCa) {
    const { readFile } = await import('node:fs/promises');
    acmeCaPem = await readFile(opts.acmeCa, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--acme-ca: cannot read ${opts.acmeCa}: ${err.code ?? err.message}`);
    });
    if (!acmeCaPem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--acme-ca: ${opts.acmeCa} holds no PEM certificate`);
  }
  const passphrase = await readPassphrase(opts.passphraseFile);
  try {
    const r = await obtain({
      dir: opts.dir,
      directoryUrl: opts.acmeDirectory,
      ...(acmeCaPem ? { acmeCaPem } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(delay ? { propagationDelayMs: Math.round(delay * 1000) } : {}),
      ...(opts.ctLog?.length ? { ctLogUrls: opts.ctLog } : {}),
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      process.stdout.write(`Binding certificate from ${r.acmeDirectory} (serial ${r.serialNumber}, valid ${r.notBefore} .. ${r.notAfter})\n`);
      process.stdout.write(`  names: ${r.names.join(', ')}\n  DNS-01 via: ${r.channels.join(', ')}\n`);
      process.stdout.write(`  logged: ${r.logEntries.length} log entr${r.logEntries.length === 1 ? 'y' : 'ies'}\n  stored: ${r.chain}, ${r.log} (config.binding)\n`);
      process.stdout.write(`Next: ${next}\n`);
    }
  } catch (err) {
    if (opts.json) {
      const { reportError } = await import('../core/errors.js');
      process.stdout.write(`${JSON.stringify({ ok: false, error: reportError(err) })}\n`);
    }
    throw err;
  }
}
