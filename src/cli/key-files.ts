import { lstat, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EmblemError } from '../core/errors.js';
import { parseTime } from './duration.js';
import { UsageError } from './exit.js';

/** What keygen and `emblem key` share: refusing to overwrite, explaining why, and the clock for kept files' names. */

export interface ClockFlag {
  now?: string;
}

/**
 * `--now <time>`: the time written into NAME.replaced-<UTC time>. Hidden: it exists so that tests (which never read
 * the wall clock) and reproducible scripts can fix the name.
 */
export function addClockOption(cmd: Command): Command {
  return cmd.addOption(new Option('--now <time>', 'the time used in the names of kept old files (ISO 8601; default: now)').hideHelp());
}

export function clockOf(opts: ClockFlag): Date {
  return opts.now ? parseTime(opts.now, '--now') : new Date();
}

export function existsMessage(path: string): string {
  return `${path} already exists: not overwriting it (use --force to replace it, keeping the old file as ${path}.replaced-<UTC time>, or choose another name)`;
}

export async function assertFilesAbsent(paths: string[]): Promise<void> {
  for (const path of paths) {
    const exists = await lstat(path).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
    );
    if (exists) throw new UsageError(existsMessage(path), 'FILE_EXISTS');
  }
}

/**
 * For --force: every target is either absent or a regular file, checked before anything is written, so a refused
 * link or directory (see keepOldFile) cannot leave a new private key without its public half.
 */
export async function assertReplaceable(paths: string[]): Promise<void> {
  for (const path of paths) {
    const info = await lstat(path).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new UsageError(`${path} is a symbolic link: not replacing it (name the file it points to)`);
    if (info && !info.isFile()) throw new UsageError(`${path} is not a regular file: not replacing it`);
  }
}

/** Refuses two flags that name one file: the same path, or two names (links) of one existing file. */
export async function assertDistinctFiles(a: string, b: string, flagA: string, flagB: string, why: string): Promise<void> {
  let same = resolve(a) === resolve(b);
  if (!same) {
    const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
    same = sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
  }
  if (same) throw new UsageError(`${flagA} and ${flagB} name the same file (${b}): ${why}`);
}

/** Runs a write to `path`, turning "exists" and file-system errors into one-line usage errors naming `path`. */
export async function writingTo<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof EmblemError) {
      if (err.code === 'FILE_EXISTS') throw new UsageError(existsMessage(path), 'FILE_EXISTS');
      throw err;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new UsageError(`cannot write ${path}: ${code}`);
    throw err;
  }
}
