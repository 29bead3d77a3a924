import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { EmblemError } from '../core/errors.js';

/**
 * The two keys of the observe config (YAML) that `emblem evidence` needs: evidenceDir and database. A tiny reader
 * on purpose, until the observe service's loadObserveConfig is merged (then this should call it). Relative paths
 * are relative to the config file, as the observe service resolves them.
 */
export interface EvidenceConfig {
  evidenceDir: string;
  database?: string;
}

/** Largest config read: 100,000 inline target names are ~3 MB of YAML. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export async function readEvidenceConfig(path: string): Promise<EvidenceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EmblemError('USAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.length > MAX_CONFIG_BYTES) throw new EmblemError('LIMIT_EXCEEDED', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new EmblemError('USAGE', `${path} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const c = doc as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new EmblemError('USAGE', `${path}: not a YAML mapping`);
  if (typeof c.evidenceDir !== 'string' || c.evidenceDir === '') throw new EmblemError('USAGE', `${path}: evidenceDir is missing`);
  const base = dirname(resolve(path));
  const evidenceDir = isAbsolute(c.evidenceDir) ? c.evidenceDir : resolve(base, c.evidenceDir);
  if (c.database !== undefined && typeof c.database !== 'string') throw new EmblemError('USAGE', `${path}: database must be a URL text`);
  return c.database === undefined ? { evidenceDir } : { evidenceDir, database: c.database };
}
