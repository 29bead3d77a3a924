import { Command, Option } from 'commander';
import { ExitCode, UsageError } from '../exit.js';
import { addFolderOptions, collect, initPkcs11FromFlags, nowOf, type FolderOptions as Common } from '../folder-options.js';

const common = (cmd: Command): Command =>
  addFolderOptions(cmd, {
    dir: 'the organisation folder (emblem-org.yaml, keys/, state.json)',
    passphrase: 'passphrase of the encrypted keys (default $EMBLEM_PASSPHRASE)',
  });

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
    .description('run an organisation\'s emblems from one folder: init, cert, plan, apply, status, withdraw, enable, rotate, run (see docs/issuer.md)')
    .addHelpText(
      'after',
      `
Exit codes (docs/issuer.md):
  0  success: apply / run --once: every asset published and verified; lint: no error; withdraw: gone everywhere
  1  ran, but an asset failed to publish or verify (its error names the server or command: TSIG_BADSIG,
     DNS_UPDATE_REFUSED, CHANNEL_RELOAD_FAILED, ...; the other channels were rolled back: all or none),
     lint found errors (apply refused, nothing changed), status / run --once warn that an emblem will lapse,
     or withdraw left records on a server
  2  stopped on an error, nothing changed (withdraw: see WITHDRAW_INCOMPLETE): usage, configuration
     (CONFIG_INVALID naming the field), a channel that cannot be read (DNS_UPDATE_UNREACHABLE naming the
     server), keys that cannot be opened, org cert ACME or CT failures (ACME_UNREACHABLE, ACME_ORDER_FAILED,
     DNS01_PUBLISH_FAILED, CT_SUBMIT_FAILED naming the CA, channel or log; nothing stored), WITHDRAW_INCOMPLETE
     (the channels that answered are done; run withdraw again)`,
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
    .option('--pkcs11-module <so>', 'keep the root key in a PKCS#11 token: module path (generated there, non-extractable; every root signature is made there)')
    .option('--pkcs11-token <label>', 'PKCS#11 token label (with --pkcs11-module)')
    .option('--pkcs11-label <label>', 'CKA_LABEL of the new root key pair in the token (default emblem-root-<host>)')
    .option('--pkcs11-pin-file <file>', 'user PIN, first line of this file (default $EMBLEM_PKCS11_PIN); the path is kept in the config for apply/run, the PIN never')
    .option('--yes', 'do not ask; create the folder')
    .action(async (opts: Common & { org: string; asset?: string[]; publish?: string[]; tsigKey?: string; reloadCommand?: string; servers?: string[]; ctLogList?: string[]; caBundle?: string; lifetime: string; renewBefore?: string; era: 'jws' | 'cwt' | 'both'; ttl: string; alg: 'ES256' | 'ES384' | 'ES512'; pkcs11Module?: string; pkcs11Token?: string; pkcs11Label?: string; pkcs11PinFile?: string; yes?: boolean }) => {
      const { initFolder } = await import('../../org/init.js');
      const { readPassphrase } = await import('../inputs.js');
      if (!opts.pkcs11Module !== !opts.pkcs11Token) throw new UsageError('--pkcs11-module and --pkcs11-token go together');
      if (!opts.pkcs11Module && (opts.pkcs11Label || opts.pkcs11PinFile)) throw new UsageError('--pkcs11-label/--pkcs11-pin-file need --pkcs11-module and --pkcs11-token');
      if (!opts.yes && !process.stdin.isTTY) throw new UsageError('pass --yes to create the folder non-interactively');
      const pkcs11 = await initPkcs11FromFlags(opts);
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
        pkcs11,
      });
      if (!passphrase) process.stderr.write(`emblem: the ${pkcs11 ? 'emblem key is' : 'keys are'} NOT encrypted; set EMBLEM_PASSPHRASE or --passphrase-file to encrypt ${pkcs11 ? 'it' : 'them'} at rest\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        const root = result.rootKey.kind === 'pkcs11' ? `root key in PKCS#11 token "${result.rootKey.token}" (label ${result.rootKey.label}, ${result.rootKey.alg}, non-extractable; kid ${result.rootKid})` : `keys/root.jwk (kid ${result.rootKid})`;
        process.stdout.write(`Created ${opts.dir}: emblem-org.yaml, ${root}, keys/emblem.jwk\n\nNext steps:\n`);
        if (pkcs11) process.stdout.write(`  (apply and run sign in the token: give them the PIN ${opts.pkcs11PinFile ? `in ${opts.pkcs11PinFile}` : 'in $EMBLEM_PKCS11_PIN'})\n`);
        process.stdout.write(`  1. Binding certificate for the root key (SANs ${result.bindingNames.join(', ')}):\n       emblem org cert --dir ${opts.dir} --acme-directory URL [--acme-ca FILE]\n     or, with a certificate you obtained yourself:\n       emblem org set-binding --dir ${opts.dir} --chain CHAIN.pem --log LOG.json\n`);
        process.stdout.write(`  2. emblem org plan --dir ${opts.dir}\n  3. emblem org apply --dir ${opts.dir}\n  4. keep it alive: emblem org run --dir ${opts.dir} (systemd: docs/emblem-org.service)\n`);
      }
    });

  org
    .command('cert')
    .description('obtain the root key\'s binding certificate from an ACME CA (RFC 8555, DNS-01 through the folder\'s channels), submit it to the configured CT logs, store it for apply')
    .requiredOption('--dir <folder>', 'the organisation folder (emblem-org.yaml, keys/, state.json)')
    .requiredOption('--acme-directory <url>', 'ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory (Pebble: https://127.0.0.1:14000/dir)')
    .option('--acme-ca <pem>', 'CA bundle trusted for the ACME server\'s own HTTPS certificate (Pebble\'s minica); default the system roots')
    .option('--ct-log <url>', 'RFC 6962 log (base URL) to submit to, in addition to the usable logs of config.ctLogLists (repeatable)', collect)
    .option('--propagation-delay <seconds>', 'wait after publishing the challenges before the CA validates (secondaries, hidden primaries)', '0')
    .option('--passphrase-file <file>', 'passphrase of the root key, only read when the folder has no public root key file (default $EMBLEM_PASSPHRASE)')
    .option('--json', 'print JSON (also on failure: {"ok": false, "error": {"code", "message"}})')
    .addHelpText(
      'after',
      `
The certificate names <host>, adem-configuration.<host> and <kid>.adem-configuration.<host> for the root key's kid
of each era in the config (what emblem ct binding checks). Each name is proven by DNS-01: a TXT record at
_acme-challenge.<name> added through every rfc2136 or zonefile channel whose zone contains it, removed afterwards
(octoDNS channels are write-only and not used). The chain is submitted (RFC 6962 add-chain) to every usable log
of config.ctLogLists and to each --ct-log; every one must accept it. Then the chain and the \`log\` entries are
stored under binding/ (new files; the previous ones are kept) and config.binding points at them: the next
org apply signs the root endorsement with them.

Nothing changes unless every step succeeded: on any failure the previous binding stays in use.
Exit codes: 0 stored; 2 failure, with a code naming the step and the message naming the server:
  ACME_UNREACHABLE      the ACME server did not answer (or its HTTPS certificate is not trusted: --acme-ca)
  ACME_ORDER_FAILED     the CA refused the account, order, challenge or finalization (its problem document follows)
  DNS01_PUBLISH_FAILED  a channel could not publish the challenge record (DNS server named)
  CT_SUBMIT_FAILED      a CT log refused the chain or the log list is unusable (log named)
  CONFIG_INVALID / CONFIG_MISSING  the folder's configuration

Local demo (docs/issuer.md): pebble -dnsserver 127.0.0.1:<your DNS port>, then
  emblem org cert --dir D --acme-directory https://127.0.0.1:14000/dir --acme-ca pebble.minica.pem
Let's Encrypt: --acme-directory https://acme-v02.api.letsencrypt.org/directory (staging: https://acme-staging-v02.api.letsencrypt.org/directory),
with --ct-log <public RFC 6962 log whose temporal shard covers the certificate's expiry> (repeatable) when
config.ctLogLists is left empty (validators then use their default log lists).`,
    )
    .action(async (opts: import('../acme-cert-action.js').AcmeCertFlags) => {
      const { runAcmeCertAction } = await import('../acme-cert-action.js');
      const { orgCertCommand } = await import('../../org/cert-command.js');
      await runAcmeCertAction(opts, orgCertCommand, `emblem org apply --dir ${opts.dir} (signs the root endorsement with the new log entries)`);
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
    const { lintWorkflow } = await import('../../org/commands.js');
    const { findings } = await lintWorkflow(opts.dir, await nowOf(opts));
    if (opts.json) process.stdout.write(`${JSON.stringify({ findings })}\n`);
    else for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n  fix: ${f.fix}\n`);
    if (!opts.json && findings.length === 0) process.stdout.write('no findings\n');
    process.exitCode = findings.some((f) => f.severity === 'error') ? ExitCode.NOT_VALID : ExitCode.OK;
  });

  common(org.command('plan').description('what apply would do: tokens to sign, records to add/remove per channel, lint findings')).action(async (opts: Common) => {
    const rt = await runtime(opts);
    const { planWorkflow, planJson } = await import('../../org/commands.js');
    const plan = await planWorkflow(rt);
    const { actions, findings } = plan;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(planJson(plan))}\n`);
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

  common(org.command('rotate').description('rotate a key: the next apply/run re-signs every asset, new sets published next to the old ones, the old ones retired once the new ones verify'))
    .option('--emblem-key', 'rotate the emblem key')
    .option('--root-key', 'rotate the root key: a new key (file, or a new object in the same PKCS#11 token), then org cert for its binding certificate; apply refuses to sign until then (BINDING_STALE) and the published sets stay valid. Endorsements by authorities name the old root key: request new ones')
    .addHelpText('after', '\nExit codes: 0 rotated; 2 usage or key errors (nothing changed).')
    .action(async (opts: Common & { emblemKey?: boolean; rootKey?: boolean }) => {
      if (!opts.emblemKey === !opts.rootKey) throw new UsageError('say what to rotate: --emblem-key or --root-key (one at a time)');
      const { readPassphrase } = await import('../inputs.js');
      if (opts.rootKey) {
        const { rotateRootKey } = await import('../../org/rotate-root.js');
        const r = await rotateRootKey(opts.dir, { passphrase: await readPassphrase(opts.passphraseFile), now: await nowOf(opts) });
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else {
          const where = r.place.kind === 'file' ? r.place.file : `PKCS#11 token "${r.place.token}", label ${r.place.label}`;
          process.stdout.write(`New root key ${r.kid} (${where}); previous ${r.previousKid ?? 'unknown'} kept as keys.previousRoot.\n\nNext steps:\n`);
          process.stdout.write(`  1. Binding certificate for the new key (SANs ${r.bindingNames.join(', ')}):\n       emblem org cert --dir ${opts.dir} --acme-directory URL   (or org set-binding)\n`);
          process.stdout.write(`     Until then apply/run refuse to sign (BINDING_STALE); the sets published now stay valid until they expire.\n`);
          process.stdout.write(`  2. emblem org apply --dir ${opts.dir}: new sets next to the old ones, the old ones retired once the new ones verify.\n`);
          process.stdout.write(`  3. Authorities endorsed the OLD root key: request new endorsements (their old ones no longer apply to the new sets).\n`);
          if (r.staleEndorsements.length) process.stdout.write(`     Received endorsements in the config that name the old key: ${r.staleEndorsements.join(', ')}\n`);
        }
        return;
      }
      const { rotateEmblemKey } = await import('../../org/init.js');
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
  common(org.command('request-endorsement').description('write an endorsement request for an authority: root key and kids, CT log entries of the binding, requested constraints, signed by the root key (docs/endorsement-request.schema.json)'))
    .requiredOption('--authority <url>', 'the authority asked, https://<host>')
    .option('--constrain-asset <ai>', 'assets the endorsement may cover (repeatable; default the folder\'s assets)', collect)
    .option('--constrain-purpose <p>', 'purposes the endorsement may allow: protective, indicative (repeatable)', collect)
    .option('--max-lifetime <duration>', 'longest emblem lifetime the endorsement allows (wnd), e.g. 30d')
    .option('--unconstrained-assets', 'ask for no asset constraint at all (authorities are expected to refuse or narrow)')
    .option('--contact <text>', 'who the authority should talk to (name, mail, phone)', '')
    .option('--pkcs11-pin-file <file>', 'PIN of a PKCS#11 root key (default the config\'s pinFile, else $EMBLEM_PKCS11_PIN)')
    .requiredOption('--out <file>', 'where to write the request (never overwritten)')
    .addHelpText('after', '\nSend the file to the authority; it runs emblem authority review and grant, and sends back a response for\nemblem org import-endorsement. Exit codes: 0 written; 2 usage, missing binding (BINDING_MISSING), unreadable keys.')
    .action(async (opts: Common & { authority: string; constrainAsset?: string[]; constrainPurpose?: string[]; maxLifetime?: string; unconstrainedAssets?: boolean; contact: string; pkcs11PinFile?: string; out: string }) => {
      const { makeRequest } = await import('../../authority/make-request.js');
      const { parseConstraints } = await import('../../authority/request.js');
      const { parseDuration } = await import('../duration.js');
      const { readPassphrase } = await import('../inputs.js');
      const { loadConfig } = await import('../../org/config.js');
      const { writeFileAtomicExclusive } = await import('../../store/atomic-write.js');
      const assets = opts.unconstrainedAssets ? undefined : opts.constrainAsset ?? (await loadConfig(opts.dir)).assets;
      let constraints;
      try {
        constraints = parseConstraints({
          ...(assets?.length ? { assets } : {}),
          ...(opts.constrainPurpose ? { purposes: opts.constrainPurpose } : {}),
          ...(opts.maxLifetime ? { maxLifetime: parseDuration(opts.maxLifetime, '--max-lifetime') } : {}),
        }, 'constraints');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const passphrase = await readPassphrase(opts.passphraseFile);
      const request = await makeRequest({ dir: opts.dir, authority: opts.authority, constraints, contact: opts.contact, now: await nowOf(opts), ...(passphrase ? { passphrase } : {}), ...(opts.pkcs11PinFile ? { pkcs11PinFile: opts.pkcs11PinFile } : {}) });
      await writeFileAtomicExclusive(opts.out, `${JSON.stringify(request, null, 2)}\n`).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(err.code === 'EEXIST' ? `${opts.out} exists; requests are never overwritten` : `cannot write ${opts.out}: ${err.code ?? err.message}`, err.code === 'EEXIST' ? 'FILE_EXISTS' : 'USAGE');
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ out: opts.out, organization: request.organization, authority: request.authority, kid: request.rootKey.kid, coseKid: request.rootKey.coseKid, constraints: request.constraints, nonce: request.nonce })}\n`);
      else process.stdout.write(`Wrote ${opts.out}: ${request.organization} asks ${request.authority} to endorse root key ${request.rootKey.kid}\n  constraints: ${JSON.stringify(request.constraints)}\n`);
    });
  common(org.command('import-endorsement').description('store an endorsement an authority granted (authority grant): checked against this folder\'s root key, listed in config.endorsements, published by the next apply'))
    .argument('<response>', 'the response file from the authority')
    .action(async (path: string, opts: Common) => {
      const { importEndorsement } = await import('../../authority/import.js');
      const r = await importEndorsement(opts.dir, path, await nowOf(opts));
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`Stored ${r.file}: endorsement of root key ${r.kid} by ${r.authority}, valid until ${r.expires}${r.replaced.length ? ` (replaces ${r.replaced.join(', ')})` : ''}\nNext: emblem org apply --dir ${opts.dir} publishes it with the next signed sets.\n`);
    });
}
