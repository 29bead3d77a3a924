import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that a crash leaves either the old or the new content, never a torn one: write a temp file in
 * the same directory (created with the final mode, so a private key is never world-readable, even briefly),
 * fsync it, rename over the target, fsync the directory so the rename itself survives power loss.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = await writeSyncedTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await syncDirectory(dirname(path));
}

/**
 * Like writeFileAtomic, but never replaces an existing file (or symbolic link): the synced temp file is hard-linked
 * to the target, which fails with EEXIST if anything is there, so "check, then write" has no race. Throws the
 * EEXIST error unchanged for the caller to explain.
 */
export async function writeFileAtomicExclusive(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = await writeSyncedTemp(path, data, mode);
  try {
    await link(temp, path);
  } catch (err) {
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    // A file system without hard links (FAT, some network mounts): reserve the name exclusively, then rename the
    // complete temp file over the (empty) reservation. Still never clobbers; a crash in between leaves an empty file.
    try {
      await (await open(path, 'wx', mode)).close();
      await rename(temp, path);
    } catch (fallbackErr) {
      await unlink(temp).catch(() => {});
      throw fallbackErr;
    }
  }
  await unlink(temp).catch(() => {});
  await syncDirectory(dirname(path));
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

async function writeSyncedTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await handle.close();
  return temp;
}

export async function syncDirectory(dir: string): Promise<void> {
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
