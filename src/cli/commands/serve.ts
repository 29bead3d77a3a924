import { Command, Option } from 'commander';
import { addCommitmentOptions, type CommitmentFlags } from '../commitment-flags.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface ServeFlags extends CommitmentFlags {
  listen?: string;
  config?: string;
  org?: string;
  authority?: string;
  observeConfig?: string;
  tokens?: string;
  auditLog?: string;
  web?: string;
  rateLimit?: string;
  resolver?: string;
  doh?: string;
  requestResolver: boolean;
  trustedKey?: string[];
  trustStore?: string[];
  policy: 'spec' | 'prototype';
  passphraseFile?: string;
  json?: boolean;
}

interface TokenFlags {
  tokens?: string;
  name?: string;
  replace?: boolean;
  json?: boolean;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve the HTTP API and the dashboard (verify, check, scan; org, authority and observatory when configured)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--config <file>', 'YAML with any of: listen, org, authority, observeConfig, tokens, auditLog, web, rateLimit, resolver, doh, trustStore (list), policy; flags win')
    .option('--org <folder>', 'enable /api/org/* for this organisation folder (emblem org init)')
    .option('--authority <folder>', 'enable /api/authority/* for this authority folder (emblem authority init)')
    .option('--observe-config <file>', 'enable /api/observatory/* for this observe configuration')
    .option('--tokens <file>', 'API tokens file (emblem serve token create); default ~/.config/emblem/api-tokens.json')
    .option('--audit-log <file>', 'append one JSON line per write action here (default: standard error)')
    .option('--web <folder>', 'the dashboard files (default: dist/web of this package)')
    .option('--rate-limit <n>', 'API requests per second per client address (burst 3x); 0 = off', '20')
    .option('--resolver <ip[:port]|system>', 'resolver for /api/check and scans (default: system)')
    .option('--doh <url>', 'DoH server for /api/check and scans instead')
    .option('--no-request-resolver', 'refuse ?resolver= (requests use the server\'s resolver only)')
    .option('--trusted-key <file>', 'a key you trust out of band (PEM or JWK); repeatable', collect)
    .option('--trust-store <file|folder>', 'pinned authority keys (emblem trust add); repeatable', collect)
    .addOption(new Option('--policy <policy>', 'as for emblem verify').choices(['spec', 'prototype']).default('spec'))
    .option('--passphrase-file <file>', 'passphrase of encrypted org/authority keys (default $EMBLEM_PASSPHRASE)')
    .option('--json', 'output is JSON already (the "listening" line, audit lines); accepted on every command');
  addCommitmentOptions(cmd);
  cmd.addHelpText(
    'after',
    `
On start one JSON line goes to stdout: {"event":"listening","url":"http://127.0.0.1:8080","features":{...}}.
Read-only endpoints are public; write endpoints (org apply/withdraw, authority grant, scan submit/cancel) need
Authorization: Bearer <token> from \`emblem serve token create\`. Every write action is logged as a JSON line.
Binds 127.0.0.1 by default: put a TLS-terminating proxy in front before exposing it (docs/server.md).
Exit codes: 0 stopped by SIGTERM/SIGINT; 2 usage error or the address could not be bound.

Examples:
  emblem serve --resolver 127.0.0.1:5353 --trust-store ~/.config/emblem/trust
  emblem serve token create --name ci
  curl -s 'http://127.0.0.1:8080/api/check?name=emblem.example&skipCommitmentCheck=true'`,
  );
  cmd.action(async (opts: ServeFlags) => {
    const { startServe } = await import('../../server/serve.js');
    await startServe(opts);
  });

  const token = cmd.command('token').description('API tokens of emblem serve (stored as SHA-256 hashes, file mode 0600)');
  const tokensOption = (c: Command) => c.option('--tokens <file>', 'the tokens file (default ~/.config/emblem/api-tokens.json)').option('--json', 'print JSON');
  tokensOption(
    token
      .command('create')
      .description('create a token and print it once (only its hash is stored)')
      .requiredOption('--name <name>', 'who or what uses it (appears in the audit log)')
      .option('--replace', 'replace an existing token of that name'),
  ).action(async (opts: TokenFlags) => {
    const { createApiToken } = await import('../../server/tokens.js');
    const { defaultTokensFile } = await import('../../server/serve.js');
    const path = opts.tokens ?? cmd.opts<{ tokens?: string }>().tokens ?? defaultTokensFile();
    const { token: text, entry } = await createApiToken(path, opts.name!, new Date(), { replace: opts.replace });
    process.stdout.write(opts.json ? `${JSON.stringify({ name: entry.name, token: text, created: entry.created, file: path })}\n` : `${text}\n`);
    if (!opts.json) process.stderr.write(`emblem: token ${JSON.stringify(entry.name)} stored (hashed) in ${path}; it is shown only now\n`);
  });
  tokensOption(token.command('list').description('list token names and creation times (never the tokens)')).action(async (opts: TokenFlags) => {
    const { readTokensFile } = await import('../../server/tokens.js');
    const { defaultTokensFile } = await import('../../server/serve.js');
    const entries = await readTokensFile(opts.tokens ?? cmd.opts<{ tokens?: string }>().tokens ?? defaultTokensFile(), { allowMissing: true });
    const out = entries.map((e) => ({ name: e.name, created: e.created }));
    process.stdout.write(opts.json ? `${JSON.stringify(out)}\n` : out.map((e) => `${e.name}\t${e.created}\n`).join(''));
  });
  tokensOption(token.command('revoke').description('delete a token').requiredOption('--name <name>', 'the token to delete')).action(async (opts: TokenFlags) => {
    const { revokeApiToken } = await import('../../server/tokens.js');
    const { defaultTokensFile } = await import('../../server/serve.js');
    const entry = await revokeApiToken(opts.tokens ?? cmd.opts<{ tokens?: string }>().tokens ?? defaultTokensFile(), opts.name!);
    process.stdout.write(opts.json ? `${JSON.stringify({ revoked: entry.name })}\n` : `revoked ${entry.name}\n`);
  });
}
