import { chmod, link, lstat, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { syncDirectory, writeFileAtomic, writeFileAtomicExclusive } from './atomic-write.js';

/**
 * Files that must never be lost (private keys above all) are created without replacing anything, and replaced only
 * on request, and then the old content is kept beside the new one as `NAME.replaced-<UTC time>` (mode 0600): an
 * endorsed, CT-committed root key cannot be regenerated, so no command deletes one.
 */

/**
 * Most `-N` suffixes tried when NAME.replaced-<time> is taken (several replacements within one second): far above
 * what a person or a script does in a second, small enough that a directory full of decoys cannot stall a command.
 */
export const MAX_REPLACED_NAME_ATTEMPTS = 1000;

/** `20261201T081906Z`: ISO 8601 basic format in UTC. No colons (some file systems refuse them); names sort by time. */
export function replacedTimestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function replacedFileName(path: string, now: Date, attempt = 1): string {
  return `${path}.replaced-${replacedTimestamp(now)}${attempt > 1 ? `-${attempt}` : ''}`;
}

export interface WriteKeepingOldOptions {
  /** Mode of the new file (the kept old file is always 0600). */
  mode: number;
  /** Replace an existing file (keeping it); without this an existing file is an error (code FILE_EXISTS). */
  replace?: boolean;
  /** The clock for the kept file's name. */
  now: Date;
}

/**
 * Writes `path` atomically. Without `replace` it refuses (FILE_EXISTS) if anything is at `path`, with no race
 * between the check and the write. With `replace` the current file is first hard-linked to NAME.replaced-<time>, so
 * at every moment the old content is reachable under at least one name; returns that name.
 */
export async function writeFileKeepingOld(path: string, data: string | Uint8Array, options: WriteKeepingOldOptions): Promise<{ keptAs?: string }> {
  if (!options.replace) {
    try {
      await writeFileAtomicExclusive(path, data, options.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EmblemError('FILE_EXISTS', `${path} already exists`);
      throw err;
    }
    return {};
  }
  const keptAs = await keepOldFile(path, options.now);
  await writeFileAtomic(path, data, options.mode);
  return keptAs ? { keptAs } : {};
}

/**
 * Gives the current content of `path` a second name, NAME.replaced-<UTC time> (or -2, -3, ... when taken), mode
 * 0600; returns it, or undefined when there is no file at `path`. Symbolic links and non-files are refused: renaming
 * over a link would replace the link, not the key it points to, and chmod would change the target.
 */
export async function keepOldFile(path: string, now: Date): Promise<string | undefined> {
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (info.isSymbolicLink()) throw new EmblemError('USAGE', `${path} is a symbolic link: not replacing it (name the file it points to)`);
  if (!info.isFile()) throw new EmblemError('USAGE', `${path} is not a regular file: not replacing it`);
  for (let attempt = 1; attempt <= MAX_REPLACED_NAME_ATTEMPTS; attempt++) {
    const name = replacedFileName(path, now, attempt);
    try {
      await link(path, name);
      // Same inode as `path`, which is about to be replaced: restricting it restricts nothing else.
      await chmod(name, 0o600);
      await syncDirectory(dirname(path));
      return name;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'ENOENT') return undefined; // removed meanwhile: nothing left to keep
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    }
    // No hard links on this file system: keep a synced copy instead (never replacing an existing name).
    try {
      await writeFileAtomicExclusive(name, await readFile(path), 0o600);
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
  }
  throw new EmblemError('LIMIT_EXCEEDED', `${path}: ${MAX_REPLACED_NAME_ATTEMPTS} names ${replacedFileName(path, now)}[-N] are taken; not replacing it`);
}
