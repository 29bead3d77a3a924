import type { Command } from 'commander';
import { UsageError } from '../exit.js';

interface StoreFlags {
  store?: string;
  json?: boolean;
}

/** `trust add|list|remove`: the store is --store FILE (or the first argument, `emblem trust add STORE KEYFILE`). */
function storeAndRest(opts: StoreFlags, args: string[], want: number, usage: string): { store: string; rest: string[] } {
  if (opts.store !== undefined) {
    if (args.length !== want) throw new UsageError(`usage: ${usage}`);
    return { store: opts.store, rest: args };
  }
  if (args.length !== want + 1) throw new UsageError(`usage: ${usage} (the store: --store FILE, or as the first argument)`);
  return { store: args[0]!, rest: args.slice(1) };
}

export function registerTrust(program: Command): void {
  const trust = program
    .command('trust')
    .description('a validator\'s trust store: authority keys pinned out of band, with names (used by check/verify/scan --trust-store)')
    .addHelpText(
      'after',
      `
A store is a FILE ({"version": 1, "keys": [{"name", "kid", "coseKid", "jwk", "added"}]}, rewritten atomically) or a
FOLDER of key files (*.jwk/*.json JWK, *.pem SPKI, *.cose/*.cbor COSE_Key; the name is the file name). Every key
in it acts exactly like one --trusted-key: an endorsement by a pinned key makes a chain ENDORSED-TRUSTED.
Nothing is replaced silently: adding a key or name already there fails (TRUST_KEY_EXISTS, TRUST_NAME_EXISTS).

Examples:
  emblem trust add --store trust.json --name "Authority of Example" authority-root.pub.jwk
  emblem trust list --store trust.json --json
  emblem trust remove --store trust.json KID
  emblem check --trust-store trust.json clinic.hospital.example`,
    );

  trust
    .command('add')
    .description('pin a key (public JWK, PEM public key, or COSE_Key in CBOR or hex)')
    .argument('<args...>', 'KEYFILE (with --store), or STORE KEYFILE')
    .option('--store <file|folder>', 'the trust store (created if absent: a file)')
    .option('--name <name>', 'the name shown for this key (default its kid)')
    .option('--label <name>', 'same as --name')
    .option('--at <time>', 'the time recorded as "added" (ISO 8601; default now)')
    .option('--json', 'print JSON')
    .action(async (args: string[], opts: StoreFlags & { name?: string; label?: string; at?: string }) => {
      const { store, rest } = storeAndRest(opts, args, 1, 'emblem trust add --store FILE [--name NAME] KEYFILE');
      if (opts.name !== undefined && opts.label !== undefined && opts.name !== opts.label) throw new UsageError('give --name or --label, not two different ones');
      const { readFile } = await import('node:fs/promises');
      const { parseKeyBytes, addTrustedKey } = await import('../../trust/store.js');
      const { parseTime } = await import('../duration.js');
      const bytes = await readFile(rest[0]!).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${rest[0]}: ${err.code ?? err.message}`);
      });
      if (bytes.length > 1024 * 1024) throw new UsageError(`${rest[0]} is larger than 1 MiB: not a key file`, 'LIMIT_EXCEEDED');
      const key = await parseKeyBytes(bytes, rest[0]!);
      const added = opts.at ? parseTime(opts.at, '--at') : new Date();
      const entry = await addTrustedKey(store, key, opts.name ?? opts.label ?? key.jwsKid, added);
      if (opts.json) process.stdout.write(`${JSON.stringify({ store, added: entry })}\n`);
      else process.stdout.write(`Pinned ${JSON.stringify(entry.name)}: kid ${entry.kid} (CWT ${entry.coseKid}) in ${store}\n`);
    });

  trust
    .command('list')
    .description('the keys a store pins')
    .argument('[store]', 'the trust store (or --store)')
    .option('--store <file|folder>', 'the trust store')
    .option('--json', 'print JSON: {"store", "keys": [{"name", "kid", "coseKid", "jwk", "added"}]}')
    .action(async (arg: string | undefined, opts: StoreFlags) => {
      const { store } = storeAndRest(opts, arg === undefined ? [] : [arg], 0, 'emblem trust list --store FILE');
      const { readTrustStore } = await import('../../trust/store.js');
      const s = await readTrustStore(store);
      if (opts.json) process.stdout.write(`${JSON.stringify({ store, kind: s.kind, keys: s.keys })}\n`);
      else if (s.keys.length === 0) process.stdout.write(`${store}: no keys\n`);
      else for (const k of s.keys) process.stdout.write(`${k.kid}  ${k.coseKid}  ${k.name}${k.added ? `  (added ${k.added})` : ''}\n`);
    });

  trust
    .command('remove')
    .description('unpin a key, by kid (JWS or CWT form) or name')
    .argument('<args...>', 'KID (with --store), or STORE KID')
    .option('--store <file|folder>', 'the trust store')
    .option('--json', 'print JSON')
    .action(async (args: string[], opts: StoreFlags) => {
      const { store, rest } = storeAndRest(opts, args, 1, 'emblem trust remove --store FILE KID');
      const { removeTrustedKey } = await import('../../trust/store.js');
      const gone = await removeTrustedKey(store, rest[0]!);
      if (opts.json) process.stdout.write(`${JSON.stringify({ store, removed: gone })}\n`);
      else process.stdout.write(`Removed ${JSON.stringify(gone.name)} (kid ${gone.kid}) from ${store}\n`);
    });
}
