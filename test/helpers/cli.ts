import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (npm test builds first) as a separate process, like a user would. `env` is added to this
 * process's environment; a variable given as undefined is removed from it.
 */
export function runCli(args: string[], options: { input?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emblem ${args.join(' ')} timed out`));
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * The fixed instant CLI tests sign at (`emblem sign --at`), and the instant they verify at (`--at`): tests never read
 * the wall clock, so the suite passes on any date (CI also runs it under `faketime -f +730d`).
 */
export const CLI_SIGNED_AT = '2026-11-01T12:00:00Z';
export const CLI_VERIFY_AT = '2026-11-01T13:00:00Z';
