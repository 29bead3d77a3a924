import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { ServerLimits } from './limits.js';

/**
 * API tokens of `emblem serve`: random 256-bit secrets shown once at creation; only their SHA-256 is stored
 * (a stolen tokens file grants nothing). The file is JSON, mode 0600, written atomically.
 */
export interface ApiTokenEntry {
  name: string;
  /** hex SHA-256 of the token text. */
  sha256: string;
  created: string;
}

interface TokensFile {
  version: 1;
  tokens: ApiTokenEntry[];
}

const TOKEN_PREFIX = 'emb_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export async function readTokensFile(path: string, options: { allowMissing?: boolean } = {}): Promise<ApiTokenEntry[]> {
  let text: string;
  try {
    if ((await stat(path)).size > ServerLimits.maxTokensFileBytes) throw new EmblemError('LIMIT_EXCEEDED', `${path} is larger than ${ServerLimits.maxTokensFileBytes} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options.allowMissing) return [];
    if (err instanceof EmblemError) throw err;
    throw new EmblemError('USAGE', `cannot read the tokens file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: TokensFile;
  try {
    parsed = JSON.parse(text) as TokensFile;
  } catch {
    throw new EmblemError('USAGE', `${path} is not a tokens file (not JSON)`);
  }
  if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.tokens)) throw new EmblemError('USAGE', `${path} is not a version-1 tokens file`);
  for (const t of parsed.tokens) {
    if (typeof t?.name !== 'string' || !NAME.test(t.name) || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256)) {
      throw new EmblemError('USAGE', `${path}: malformed token entry`);
    }
  }
  return parsed.tokens;
}

/** Creates a token named `name`, stores its hash and returns the token text (shown once, never stored). */
export async function createApiToken(path: string, name: string, now: Date, options: { replace?: boolean } = {}): Promise<{ token: string; entry: ApiTokenEntry }> {
  if (!NAME.test(name)) throw new EmblemError('USAGE', `--name ${JSON.stringify(name)}: letters, digits, ".", "_" and "-", at most 64`);
  const tokens = await readTokensFile(path, { allowMissing: true });
  const existing = tokens.findIndex((t) => t.name === name);
  if (existing >= 0 && !options.replace) throw new EmblemError('FILE_EXISTS', `a token named ${JSON.stringify(name)} exists (--replace to issue a new one)`);
  if (existing < 0 && tokens.length >= ServerLimits.maxApiTokens) throw new EmblemError('LIMIT_EXCEEDED', `at most ${ServerLimits.maxApiTokens} tokens`);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const entry: ApiTokenEntry = { name, sha256: sha256Hex(token), created: now.toISOString() };
  const next = existing >= 0 ? tokens.map((t, i) => (i === existing ? entry : t)) : [...tokens, entry];
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, tokens: next } satisfies TokensFile, null, 2)}\n`, 0o600);
  return { token, entry };
}

export async function revokeApiToken(path: string, name: string): Promise<ApiTokenEntry> {
  const tokens = await readTokensFile(path);
  const found = tokens.find((t) => t.name === name);
  if (!found) throw new EmblemError('USAGE', `no token named ${JSON.stringify(name)}`);
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, tokens: tokens.filter((t) => t !== found) } satisfies TokensFile, null, 2)}\n`, 0o600);
  return found;
}

/** Checks presented tokens against the stored hashes (constant-time compare); reloads the file when it changes. */
export class ApiTokenVerifier {
  private entries: Array<{ name: string; hash: Buffer }> = [];
  private mtimeMs = -1;

  constructor(private readonly path: string | null) {}

  async load(): Promise<void> {
    if (!this.path) return;
    const s = await stat(this.path).catch(() => null);
    if (!s) {
      this.entries = [];
      this.mtimeMs = -1;
      return;
    }
    if (s.mtimeMs === this.mtimeMs) return;
    const tokens = await readTokensFile(this.path);
    this.entries = tokens.map((t) => ({ name: t.name, hash: Buffer.from(t.sha256, 'hex') }));
    this.mtimeMs = s.mtimeMs;
  }

  /** The token's name, or null. */
  async verify(token: string): Promise<string | null> {
    await this.load();
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    const hash = createHash('sha256').update(token, 'utf8').digest();
    let name: string | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.hash, hash)) name = e.name;
    return name;
  }
}
