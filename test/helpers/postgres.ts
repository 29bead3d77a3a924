/**
 * A throwaway PostgreSQL server for tests, from Debian's `postgresql` package (binaries in
 * /usr/lib/postgresql/<version>/bin, the newest version found): initdb into a temp dir, postgres on 127.0.0.1 with
 * an ephemeral port and its unix socket in the temp dir, trust authentication, no fsync (nothing here must survive
 * a power loss). stop() and start() stop and restart the same server (same data, same port) for "the database went
 * away and came back" tests; remove() stops it and deletes everything.
 *
 * initdb and postgres refuse to run as root. As root (this machine, CI) they run as `nobody` (or, if that user is
 * missing, a system user `emblem-pg` created here), and the temp dir is handed to that user; as a normal user they
 * run as that user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { thirdPartyEnv } from './third-party.js';
import { freeTcpPort } from './ports.js';

export interface RunningPostgres {
  readonly port: number;
  readonly socketDir: string;
  /** A URL for database `database` over TCP as the superuser `postgres`. */
  url(database?: string): string;
  /** Creates an empty database and returns its URL (~1 s: CREATE DATABASE copies a template). */
  createDatabase(): Promise<string>;
  /** Creates an empty schema in database `postgres` and returns a URL whose connections use it (search_path):
   *  a fresh, isolated namespace in milliseconds, for one test each. */
  createSchema(): Promise<string>;
  /** Fast shutdown (SIGINT); the data stays. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  start(): Promise<void>;
  /** Stops the server (if running) and deletes the temp dir. */
  remove(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL with initdb and postgres, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

export function postgresAvailable(): boolean {
  return postgresBinDir() !== undefined;
}

interface RunAs {
  uid: number;
  gid: number;
}

function idOf(user: string): RunAs | undefined {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Who runs initdb/postgres: undefined = this process's user; as root, an unprivileged account. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const nobody = idOf('nobody');
  if (nobody) return nobody;
  const own = idOf('emblem-pg');
  if (own) return own;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'emblem-pg'], { encoding: 'utf8' });
  const created = idOf('emblem-pg');
  if (!created) throw new Error(`cannot create an unprivileged user for PostgreSQL: ${made.stderr}`);
  return created;
}


function chownTree(path: string, as: RunAs): void {
  const r = spawnSync('chown', ['-R', `${as.uid}:${as.gid}`, path]);
  if (r.status !== 0) chownSync(path, as.uid, as.gid);
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const as = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'emblem-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = dir;
  const logFile = join(dir, 'postgres.log');
  if (as) chownTree(dir, as);
  const env = thirdPartyEnv({ LC_ALL: 'C', LANG: 'C' });
  const spawnOptions = { cwd: dir, env, ...(as ?? {}) };

  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { ...spawnOptions, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  }

  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let databases = 0;

  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '');

  async function launch(): Promise<boolean> {
    const fd = openSync(logFile, 'a');
    if (as) chownSync(logFile, as.uid, as.gid);
    const c = spawn(
      join(bin!, 'postgres'),
      [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${socketDir}`,
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=50',
        '-c', 'shared_buffers=16MB',
      ],
      { ...spawnOptions, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    child = c;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    for (let i = 0; i < 300 && c.exitCode === null && c.signalCode === null; i++) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return true;
      } catch {
        await client.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited;
    return false;
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGINT'); // fast shutdown: roll back open transactions, disconnect clients, checkpoint
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  let started = false;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freeTcpPort();
    started = await launch(); // a port taken between freeTcpPort() and bind: try another
  }
  if (!started) {
    const tail = log();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start: ${tail}`);
  }

  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    socketDir,
    url,
    async createDatabase() {
      const name = `emblem_test_${++databases}`;
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async createSchema() {
      const name = `emblem_test_${++databases}`;
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA ${name}`);
      } finally {
        await admin.end();
      }
      return `${url()}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    stop,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      if (!(await launch())) throw new Error(`postgres did not restart on port ${port}: ${log()}`);
    },
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
