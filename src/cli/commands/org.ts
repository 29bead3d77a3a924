import { Command, Option } from 'commander';
import { ExitCode, UsageError } from '../exit.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface Common {
  dir: string;
  at?: string;
  json?: boolean;
  passphraseFile?: string;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--dir <folder>', 'the organisation folder (emblem-org.yaml, keys/, state.json)')
    .option('--at <time>', 'act as of this ISO-8601 time instead of now (tests, dry runs)')
    .option('--passphrase-file <file>', 'passphrase of the encrypted keys (default $EMBLEM_PASSPHRASE)')
    .option('--json', 'print JSON');
}

async function nowOf(opts: Common): Promise<number> {
  const { parseTime } = await import('../duration.js');
  return Math.floor((opts.at ? parseTime(opts.at, '--at') : new Date()).getTime() / 1000);
}

async function runtime(opts: Common, log?: (e: Record<string, unknown>) => void) {
  const { openRuntime } = await import('../../org/runtime.js');
  const { readPassphrase } = await import('../inputs.js');
  const passphrase = await readPassphrase(opts.passphraseFile);
  return openRuntime(opts.dir, { now: await nowOf(opts), ...(passphrase ? { passphrase } : {}), ...(log ? { log } : {}) });
}

function jsonLog(quiet: boolean): (e: Record<string, unknown>) => void {
  return (e) => {
    if (!quiet) process.stderr.write(`${JSON.stringify(e)}\n`);
  };
}

function describe(a: import('../../org/plan.js').Action): string {
  switch (a.kind) {
    case 'sign':
      return `sign     ${a.assets.length} asset(s): ${a.assets.slice(0, 5).join(', ')}${a.assets.length > 5 ? ', ...' : ''} (${a.reason})`;
    case 'publish':
      return `publish  ${a.asset} on ${a.channel}: +${a.add.length} record(s)${a.remove.length ? `, -${a.remove.length} replaced` : ''}`;
    case 'verify':
      return `verify   ${a.asset} on the authoritative servers`;
    case 'remove':
      return `remove   ${a.asset} on ${a.channel}: -${a.remove.length} record(s) (${a.reason})`;
  }
}

export function registerOrg(program: Command): void {
  const org = program
    .command('org')
    .description('run an organisation\'s emblems from one folder: init, plan, apply, status, withdraw, enable, run (see docs/issuer.md)')
    .addHelpText(
      'after',
      `
Exit codes: 0 success (apply/run --once: every asset verified); 1 an asset failed, lint found errors, or status
warns that an emblem will lapse; 2 usage, configuration or channel errors (the message names the field or server).`,
    );

  common(org.command('init').description('create the folder: root key, emblem key, emblem-org.yaml'))
    .requiredOption('--org <url>', 'organisation identifier, https://<host>')
    .option('--asset <ai>', 'asset identifier (repeatable)', collect)
    .option('--publish <channel>', 'rfc2136://IP:PORT/zone, zonefile:PATH or octodns:PATH (repeatable)', collect)
    .option('--tsig-key <file>', 'TSIG key for the rfc2136 channels (tsig-keygen output)')
    .option('--reload-command <cmd>', 'for zonefile channels: run after each change')
    .option('--servers <ip:port>', 'for zonefile channels: authoritative servers to verify on (repeatable)', collect)
    .option('--ct-log-list <url|file>', 'CT log list to verify commitments with (repeatable)', collect)
    .option('--ca-bundle <pem>', 'CAs trusted for the binding certificate chain when verifying (default: the system bundle; local demos: the local/ACME test CA)')
    .option('--lifetime <duration>', 'emblem lifetime', '7d')
    .option('--renew-before <duration>', 'renew when less than this remains (default a third of the lifetime)')
    .addOption(new Option('--era <era>', 'eras to publish').choices(['jws', 'cwt', 'both']).default('jws'))
    .option('--ttl <seconds>', 'TTL of the emblem records', '300')
    .addOption(new Option('--alg <alg>', 'key algorithm').choices(['ES256', 'ES384', 'ES512']).default('ES256'))
    .option('--pkcs11-module <so>', 'keep the root key in a PKCS#11 token (module path)')
    .option('--pkcs11-token <label>', 'PKCS#11 token label')
    .option('--yes', 'do not ask; create the folder')
    .action(async (opts: Common & { org: string; asset?: string[]; publish?: string[]; tsigKey?: string; reloadCommand?: string; servers?: string[]; ctLogList?: string[]; caBundle?: string; lifetime: string; renewBefore?: string; era: 'jws' | 'cwt' | 'both'; ttl: string; alg: 'ES256' | 'ES384' | 'ES512'; pkcs11Module?: string; pkcs11Token?: string; yes?: boolean }) => {
      const { initFolder } = await import('../../org/init.js');
      const { readPassphrase } = await import('../inputs.js');
      if (opts.pkcs11Module || opts.pkcs11Token) throw new UsageError('--pkcs11-module/--pkcs11-token: PKCS#11 root keys are not in this build yet (src/keys/pkcs11.ts)');
      if (!opts.yes && !process.stdin.isTTY) throw new UsageError('pass --yes to create the folder non-interactively');
      const passphrase = await readPassphrase(opts.passphraseFile);
      const result = await initFolder({
        dir: opts.dir,
        organization: opts.org,
        assets: opts.asset ?? [],
        publish: opts.publish ?? [],
        tsigKey: opts.tsigKey,
        reloadCommand: opts.reloadCommand,
        servers: opts.servers,
        ctLogLists: opts.ctLogList,
        caBundle: opts.caBundle,
        lifetime: opts.lifetime,
        renewBefore: opts.renewBefore,
        era: opts.era,
        ttl: Number(opts.ttl),
        alg: opts.alg,
        passphrase,
      });
      if (!passphrase) process.stderr.write('emblem: the keys are NOT encrypted; set EMBLEM_PASSPHRASE or --passphrase-file to encrypt them at rest\n');
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        process.stdout.write(`Created ${opts.dir}: emblem-org.yaml, keys/root.jwk (kid ${result.rootKid}), keys/emblem.jwk\n\nNext steps:\n`);
        process.stdout.write(`  1. Binding certificate for the root key (SANs ${result.bindingNames.join(', ')}):\n       emblem org cert --dir ${opts.dir} --acme-directory URL\n     or, with a certificate you obtained yourself:\n       emblem org set-binding --dir ${opts.dir} --chain CHAIN.pem --log LOG.json\n`);
        process.stdout.write(`  2. emblem org plan --dir ${opts.dir}\n  3. emblem org apply --dir ${opts.dir}\n  4. keep it alive: emblem org run --dir ${opts.dir} (systemd: docs/emblem-org.service)\n`);
      }
    });

  common(org.command('set-binding').description('store the root key\'s binding certificate chain and its CT `log` entries (what org cert obtains via ACME)'))
    .requiredOption('--chain <pem>', 'certificate chain, leaf first')
    .requiredOption('--log <json>', 'log entries (emblem ct leafhash output): file or inline JSON')
    .action(async (opts: Common & { chain: string; log: string }) => {
      const { setBinding } = await import('../../org/init.js');
      const r = await setBinding(opts.dir, opts.chain, opts.log);
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `Stored the binding certificate (${r.names.join(', ')}) and ${r.entries} log entr${r.entries === 1 ? 'y' : 'ies'}\n`);
    });

  common(org.command('lint').description('check the configuration for mistakes (each finding: code, severity, message, fix)')).action(async (opts: Common) => {
    const { loadConfig } = await import('../../org/config.js');
    const { loadState } = await import('../../org/state.js');
    const { lint } = await import('../../org/lint/index.js');
    const config = await loadConfig(opts.dir);
    const findings = await lint(opts.dir, config, await loadState(opts.dir), await nowOf(opts));
    if (opts.json) process.stdout.write(`${JSON.stringify({ findings })}\n`);
    else for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n  fix: ${f.fix}\n`);
    if (!opts.json && findings.length === 0) process.stdout.write('no findings\n');
    process.exitCode = findings.some((f) => f.severity === 'error') ? ExitCode.NOT_VALID : ExitCode.OK;
  });

  common(org.command('plan').description('what apply would do: tokens to sign, records to add/remove per channel, lint findings')).action(async (opts: Common) => {
    const rt = await runtime(opts);
    const { loadState } = await import('../../org/state.js');
    const { currentPlan } = await import('../../org/apply.js');
    const { lint } = await import('../../org/lint/index.js');
    const state = await loadState(opts.dir);
    const findings = await lint(opts.dir, rt.config, state, rt.now);
    const actions = await currentPlan(rt, state);
    if (opts.json) {
      const hex = (rs: Array<{ name: string; type: number; ttl: number; rdata: Uint8Array }>) => rs.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata).toString('hex') }));
      process.stdout.write(`${JSON.stringify({ actions: actions.map((a) => (a.kind === 'publish' ? { ...a, add: hex(a.add), remove: hex(a.remove) } : a.kind === 'remove' ? { ...a, remove: hex(a.remove) } : a)), findings })}\n`);
    } else {
      for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n`);
      if (actions.length === 0) process.stdout.write('nothing to do\n');
      for (const a of actions) process.stdout.write(`${describe(a)}\n`);
      if (actions.some((a) => a.kind === 'sign')) process.stdout.write('(after signing, apply publishes the new records, verifies them, then retires the old ones)\n');
    }
    process.exitCode = findings.some((f) => f.severity === 'error') ? ExitCode.NOT_VALID : ExitCode.OK;
  });

  common(org.command('apply').description('sign what is due, publish to every channel, verify on the authoritative servers'))
    .option('--quiet', 'no progress lines on stderr')
    .action(async (opts: Common & { quiet?: boolean }) => {
      const { applyCommand } = await import('../../org/commands.js');
      process.exitCode = await applyCommand(await runtime(opts, jsonLog(opts.quiet === true)), opts.json === true);
    });

  common(org.command('status').description('per asset: status, level seen now on the authoritative servers, valid until, next renewal'))
    .option('--offline', 'from the state file only; do not query the servers')
    .action(async (opts: Common & { offline?: boolean }) => {
      const { statusCommand } = await import('../../org/commands.js');
      process.exitCode = await statusCommand(await runtime(opts), opts.json === true, opts.offline === true);
    });

  common(org.command('withdraw').description('remove the emblem records of assets from every channel now, verify they are gone, stop renewing them'))
    .option('--asset <name>', 'asset to withdraw (repeatable)', collect)
    .option('--all', 'every asset')
    .action(async (opts: Common & { asset?: string[]; all?: boolean }) => {
      if (!opts.all && !opts.asset?.length) throw new UsageError('give --asset NAME or --all');
      const { withdrawCommand } = await import('../../org/commands.js');
      process.exitCode = await withdrawCommand(await runtime(opts), opts.all ? null : opts.asset!, opts.json === true);
    });

  common(org.command('enable').description('undo withdraw: the next apply/run signs and publishes these assets again'))
    .option('--asset <name>', 'asset to enable (repeatable)', collect)
    .option('--all', 'every asset of emblem-org.yaml')
    .action(async (opts: Common & { asset?: string[]; all?: boolean }) => {
      if (!opts.all && !opts.asset?.length) throw new UsageError('give --asset NAME or --all');
      const { enableCommand } = await import('../../org/commands.js');
      process.exitCode = await enableCommand(await runtime(opts), opts.all ? null : opts.asset!, opts.json === true);
    });

  common(org.command('rotate').description('rotate the emblem key: the next apply/run re-signs every asset, both keys published during the overlap, then the old one retired'))
    .option('--emblem-key', 'rotate the emblem key (the only rotation in this build; root-key rotation needs a new binding certificate: org cert, and authorities must re-endorse the new root key)')
    .action(async (opts: Common & { emblemKey?: boolean }) => {
      if (!opts.emblemKey) throw new UsageError('say what to rotate: --emblem-key');
      const { rotateEmblemKey } = await import('../../org/init.js');
      const { readPassphrase } = await import('../inputs.js');
      const r = await rotateEmblemKey(opts.dir, await readPassphrase(opts.passphraseFile), await nowOf(opts));
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `New emblem key ${r.kid} (previous ${r.previousKid ?? 'unknown'}). Run emblem org apply (or let org run do it): new sets are published next to the old ones, the old ones retired once the new ones verify.\n`);
    });

  common(org.command('run').description('keep the emblems alive: renew before they lapse, retry with backoff (JSON log lines; SIGTERM finishes the step)'))
    .option('--once', 'do what is due now and exit (cron, systemd timers): exit 1 when an asset failed or will lapse')
    .action(async (opts: Common & { once?: boolean }) => {
      const { runCommand } = await import('../../org/commands.js');
      const { readPassphrase } = await import('../inputs.js');
      const passphrase = await readPassphrase(opts.passphraseFile);
      process.exitCode = await runCommand({ dir: opts.dir, once: opts.once === true, at: opts.at === undefined ? null : await nowOf(opts), ...(passphrase ? { passphrase } : {}) });
    });
}
