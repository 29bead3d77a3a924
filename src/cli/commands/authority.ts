import { Command, Option } from 'commander';
import { ExitCode, UsageError } from '../exit.js';
import { addFolderOptions, collect, initPkcs11FromFlags, nowOf, type FolderOptions as Common } from '../folder-options.js';

const common = (cmd: Command): Command =>
  addFolderOptions(cmd, {
    dir: 'the authority folder (emblem-authority.json, keys/, registry.sqlite)',
    passphrase: 'passphrase of the encrypted root key (default $EMBLEM_PASSPHRASE)',
  });

async function open(opts: Common & { pkcs11PinFile?: string }) {
  const { openAuthority } = await import('../../authority/runtime.js');
  const { readPassphrase } = await import('../inputs.js');
  const passphrase = await readPassphrase(opts.passphraseFile);
  return openAuthority(opts.dir, { now: await nowOf(opts), ...(passphrase ? { passphrase } : {}), ...(opts.pkcs11PinFile ? { pkcs11PinFile: opts.pkcs11PinFile } : {}) });
}

async function registry(dir: string, now: number) {
  const { Registry } = await import('../../authority/registry.js');
  return Registry.open(dir, { now });
}

/** The request file, bounded and parsed (the same reader the HTTP API's workflows use). */
async function readRequest(path: string) {
  return (await import('../../authority/workflows.js')).readRequestFile(path);
}

const iso = (s: number) => new Date(s * 1000).toISOString();

function constraintFlags(cmd: Command): Command {
  return cmd
    .option('--constrain-asset <ai>', 'narrow: assets the endorsement covers (each within a requested one; repeatable)', collect)
    .option('--constrain-purpose <p>', 'narrow: purposes allowed (each requested; repeatable)', collect)
    .option('--max-lifetime <duration>', 'narrow: longest emblem lifetime (at most the requested one)');
}

export function registerAuthority(program: Command): void {
  const authority = program
    .command('authority')
    .description('endorse organisations as an authority: init, cert, set-binding, publish, review, grant, list, show, renew, revoke, lint (registry in SQLite)')
    .addHelpText(
      'after',
      `
Workflow: the organisation runs emblem org request-endorsement and sends req.json; the authority runs review (a
one-screen summary and a verdict), then grant (writes resp.json and records it); the organisation runs emblem org
import-endorsement resp.json and org apply. Short lifetimes are ADEM's revocation mechanism: revoke stops renewal,
and published copies stay valid until they expire.
Exit codes: 0 success (review: verdict ok or warnings); 1 review refused; 2 usage, bad input (REQUEST_MALFORMED,
REQUEST_EXPIRED, NONCE_REPLAYED, LIMIT_EXCEEDED), refused grant, configuration errors.`,
    );

  common(authority.command('init').description('create the authority folder: root key (encrypted at rest with a passphrase), config, registry'))
    .requiredOption('--authority <url>', 'the authority\'s organisation identifier, https://<host>')
    .option('--publish <channel>', 'the authority zone\'s channel (as org init): rfc2136://IP:PORT/zone, zonefile:PATH or octodns:PATH (repeatable); authority cert publishes its DNS-01 challenges and authority publish the key there', collect)
    .option('--tsig-key <file>', 'TSIG key for the rfc2136 channels (tsig-keygen output)')
    .option('--ct-log-list <url|file>', 'CT log list used to check organisations\' commitments and to log the binding certificate (repeatable)', collect)
    .option('--ca-bundle <pem>', 'CAs trusted for binding-certificate chains (default the system bundle; local demos: the local CA)')
    .option('--lifetime <duration>', 'default endorsement lifetime', '365d')
    .option('--max-request-age <duration>', 'oldest request review/grant accept', '30d')
    .addOption(new Option('--alg <alg>', 'key algorithm').choices(['ES256', 'ES384', 'ES512']).default('ES256'))
    .option('--pkcs11-module <so>', 'keep the root key in a PKCS#11 token: module path (generated there, non-extractable; every endorsement is signed there)')
    .option('--pkcs11-token <label>', 'PKCS#11 token label (with --pkcs11-module)')
    .option('--pkcs11-label <label>', 'CKA_LABEL of the new key pair (default emblem-authority-<host>)')
    .option('--pkcs11-pin-file <file>', 'user PIN, first line of this file (default $EMBLEM_PKCS11_PIN); the path is kept in the config, the PIN never')
    .option('--yes', 'do not ask; create the folder')
    .action(async (opts: Common & { authority: string; publish?: string[]; tsigKey?: string; ctLogList?: string[]; caBundle?: string; lifetime: string; maxRequestAge: string; alg: 'ES256' | 'ES384' | 'ES512'; pkcs11Module?: string; pkcs11Token?: string; pkcs11Label?: string; pkcs11PinFile?: string; yes?: boolean }) => {
      if (!opts.yes && !process.stdin.isTTY) throw new UsageError('pass --yes to create the folder non-interactively');
      if (!opts.pkcs11Module !== !opts.pkcs11Token) throw new UsageError('--pkcs11-module and --pkcs11-token go together');
      const { initAuthority } = await import('../../authority/init.js');
      const { readPassphrase } = await import('../inputs.js');
      const pkcs11 = await initPkcs11FromFlags(opts);
      const passphrase = await readPassphrase(opts.passphraseFile);
      const r = await initAuthority({ dir: opts.dir, authority: opts.authority, publish: opts.publish, tsigKey: opts.tsigKey, ctLogLists: opts.ctLogList, caBundle: opts.caBundle, lifetime: opts.lifetime, maxRequestAge: opts.maxRequestAge, alg: opts.alg, passphrase, pkcs11 });
      if (!passphrase && !pkcs11) process.stderr.write('emblem: the root key is NOT encrypted; set EMBLEM_PASSPHRASE or --passphrase-file to encrypt it at rest\n');
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`Created ${opts.dir}: emblem-authority.json, ${pkcs11 ? `root key in PKCS#11 token "${pkcs11.token}"` : 'keys/root.jwk'} (kid ${r.kid}), registry.sqlite\nNext: a binding certificate for the root key (SANs ${r.bindingNames.join(', ')}), then\n  emblem authority cert --dir ${opts.dir} --acme-directory URL   (ACME DNS-01 through --publish, CT-logged)\nor, with a certificate obtained by hand,\n  emblem authority set-binding --dir ${opts.dir} --chain CHAIN.pem --log LOG.json\n`);
    });

  authority
    .command('cert')
    .description('obtain the authority root key\'s binding certificate via ACME (DNS-01 through the folder\'s --publish channels), log it in CT, store it (as org cert)')
    .requiredOption('--dir <folder>', 'the authority folder')
    .requiredOption('--acme-directory <url>', 'ACME directory URL (Pebble: https://127.0.0.1:14000/dir)')
    .option('--acme-ca <pem>', 'CA bundle trusted for the ACME server\'s own HTTPS certificate (Pebble\'s minica); default the system roots')
    .option('--ct-log <url>', 'RFC 6962 log (base URL) to submit to, besides the usable logs of the folder\'s ctLogLists (repeatable)', collect)
    .option('--propagation-delay <seconds>', 'wait after publishing the challenges before the CA validates', '0')
    .option('--passphrase-file <file>', 'passphrase of the root key, only read when the folder has no public root key file (default $EMBLEM_PASSPHRASE)')
    .option('--json', 'print JSON (also on failure: {"ok": false, "error": {"code", "message"}})')
    .addHelpText(
      'after',
      `
The certificate names <host>, adem-configuration.<host> and <kid>.adem-configuration.<host> for the root key's JWS
and CWT kids, each proven by DNS-01 through the folder's rfc2136/zonefile channels (authority init --publish). The
chain goes to every usable log of the folder's ctLogLists and each --ct-log; then binding/chain-<serial>.pem and
binding/log-<serial>.json are written and the config points at them: grant puts those \`log\` entries into every
endorsement. On any failure the previous binding stays in use.
Exit codes: 0 stored; 2 failure: ACME_UNREACHABLE, ACME_ORDER_FAILED, DNS01_PUBLISH_FAILED, CT_SUBMIT_FAILED,
CONFIG_INVALID, CONFIG_MISSING (as emblem org cert).`,
    )
    .action(async (opts: import('../acme-cert-action.js').AcmeCertFlags) => {
      const { runAcmeCertAction } = await import('../acme-cert-action.js');
      const { authorityCert } = await import('../../authority/cert.js');
      await runAcmeCertAction(opts, authorityCert, 'emblem authority grant uses these log entries in every endorsement');
    });

  common(authority.command('set-binding').description('store the root key\'s binding certificate chain and its CT `log` entries (they go into every endorsement)'))
    .requiredOption('--chain <pem>', 'certificate chain, leaf first')
    .requiredOption('--log <json>', 'log entries (emblem ct leafhash output): file or inline JSON')
    .action(async (opts: Common & { chain: string; log: string }) => {
      const { setAuthorityBinding } = await import('../../authority/init.js');
      const r = await setAuthorityBinding(opts.dir, opts.chain, opts.log);
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `Stored binding/chain.pem and binding/log.json (${r.entries} log entr${r.entries === 1 ? 'y' : 'ies'})\n`);
    });

  common(authority.command('publish').description('publish the authority\'s public key (adem-key= TXT, COSE_Key in IHLE) and its binding (a self-endorsement with the CT log entries, JWS and CWT) at its host, through the config\'s channels'))
    .option('--pkcs11-pin-file <file>', 'PIN of a PKCS#11 root key')
    .addHelpText('after', `
Validators fetch the key (dig TXT/IHLE at the authority's host), check its commitment in CT, and pin it
(emblem trust add / --trusted-key). Re-run before the self-endorsement expires (the config's lifetime).
Codes: CONFIG_INVALID (no channels: authority init --publish … --tsig-key …), BINDING_MISSING (authority set-binding first).`)
    .action(async (opts: Common & { pkcs11PinFile?: string }) => {
      const { publishAuthority } = await import('../../authority/publish.js');
      const rt = await open(opts);
      try {
        const r = await publishAuthority(rt);
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(`Published the key ${r.kid} (CWT kid ${r.coseKid}) and its binding at ${r.name} through ${r.channels.join(', ')}: ${r.added} added, ${r.removed} removed; self-endorsement valid until ${r.validUntil}\n`);
      } finally {
        rt.close();
      }
    });

  common(authority.command('review').description('check a request: proof of possession, CT commitment of the root key (and the binding names), requested scope; verdict ok | warnings | refuse'))
    .argument('<request>', 'the request file (emblem org request-endorsement)')
    .option('--log-list <file|url>', 'CT log list (repeatable; default the folder\'s ctLogLists)', collect)
    .option('--skip-commitment-check', 'do not check the CT commitment (reported as a warning)')
    .option('--resolver <ip[:port]>', 'also look up what the organisation publishes in DNS for the requested names, through this resolver only (never the assets); without it no DNS query is made')
    .option('--timeout <ms>', 'DNS timeout per query attempt (with --resolver)', '3000')
    .addHelpText('after', `
JSON: {"verdict": "ok"|"warnings"|"refuse", "findings": [{"code", "severity", "message"}], "published": {...}, ...}.
DNS (with --resolver; *.x is looked up at x): info PUBLISHED_OK, PUBLISHED_NONE, DNS_NOT_CHECKED (no --resolver);
warning PUBLISHED_OUTSIDE_CONSTRAINTS, PUBLISHED_OTHER_KEY, PUBLISHED_OTHER_ISSUER, PUBLISHED_INVALID,
DNS_UNAVAILABLE (the resolver did not answer: indeterminate, never a refusal).
Codes: refuse PROOF_OF_POSSESSION, WRONG_AUTHORITY, COMMITMENT_FAILED, BINDING_NAME_MISMATCH, SELF_ENDORSEMENT;
warning COMMITMENT_UNAVAILABLE (could not check: indeterminate, not refused), COMMITMENT_SKIPPED, WILDCARD,
ASSET_OUTSIDE_DOMAIN, ADDRESS_ASSET, UNCONSTRAINED_ASSETS; info PROOF_OK, COMMITMENT_VERIFIED, UNCONSTRAINED_*.
Exit codes: 0 ok or warnings; 1 refuse; 2 bad input (REQUEST_MALFORMED, REQUEST_EXPIRED, NONCE_REPLAYED, LIMIT_EXCEEDED).`)
    .action(async (path: string, opts: Common & { logList?: string[]; skipCommitmentCheck?: boolean; resolver?: string; timeout: string }) => {
      const { formatReview } = await import('../../authority/review.js');
      const { reviewWorkflow } = await import('../../authority/workflows.js');
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError('--timeout must be 1..60000 ms');
      const { parseResolverSpec } = await import('../../dns/resolver.js');
      if (opts.resolver !== undefined) parseResolverSpec(opts.resolver, undefined);
      const rt = await open(opts);
      const { text } = await readRequest(path);
      const review = await reviewWorkflow(rt, opts.dir, { requestText: text, logList: opts.logList, skipCommitmentCheck: opts.skipCommitmentCheck, resolver: opts.resolver, timeoutMs });
      process.stdout.write(opts.json ? `${JSON.stringify(review)}\n` : formatReview(review));
      process.exitCode = review.verdict === 'refuse' ? ExitCode.NOT_VALID : ExitCode.OK;
    });

  constraintFlags(common(authority.command('grant').description('review the request again, sign the endorsement of its root key (never wider than requested), write the response, record it')))
    .argument('<request>', 'the request file')
    .requiredOption('--out <file>', 'the response file for the organisation (never overwritten)')
    .option('--lifetime <duration>', 'endorsement lifetime (default the config\'s, 365d)')
    .option('--accept-warnings', 'sign although review has warnings (they are printed; a refusal is never overridden)')
    .option('--log-list <file|url>', 'CT log list (repeatable; default the folder\'s ctLogLists)', collect)
    .option('--skip-commitment-check', 'do not check the CT commitment (a warning: needs --accept-warnings)')
    .option('--pkcs11-pin-file <file>', 'PIN of a PKCS#11 root key')
    .option('--cwt-without-asset-constraints', 'the request asks for the CWT era too: sign its CWT endorsement although CORE-02 cannot carry the asset constraints or the lifetime limit (CWT-era validators will not enforce them; purposes still apply)')
    .addHelpText('after', '\nA request from an organisation publishing the CWT era (eras: jws+cwt or cwt) gets a CWT endorsement too (CORE-02: sub, key, end, prp).\nCodes: GRANT_REFUSED (review refused, or warnings without --accept-warnings), CWT_CONSTRAINT_UNSUPPORTED (a CWT endorsement with asset or lifetime constraints, without --cwt-without-asset-constraints), CONSTRAINT_WIDENED (a --constrain-… flag wider than the request), FILE_EXISTS, BINDING_MISSING, and review\'s input errors. Exit 2 on each.')
    .action(async (path: string, opts: Common & { out: string; lifetime?: string; acceptWarnings?: boolean; logList?: string[]; skipCommitmentCheck?: boolean; pkcs11PinFile?: string; constrainAsset?: string[]; constrainPurpose?: string[]; maxLifetime?: string; cwtWithoutAssetConstraints?: boolean }) => {
      const { formatReview } = await import('../../authority/review.js');
      const { grantWorkflow } = await import('../../authority/workflows.js');
      const { parseDuration } = await import('../duration.js');
      const rt = await open(opts);
      const { text } = await readRequest(path);
      try {
        const maxLifetime = opts.maxLifetime ? parseDuration(opts.maxLifetime, '--max-lifetime') : undefined;
        const { rec, json, warning, eras } = await grantWorkflow(rt, opts.dir, {
          requestText: text,
          out: opts.out,
          lifetime: opts.lifetime ? parseDuration(opts.lifetime, '--lifetime') : undefined,
          acceptWarnings: opts.acceptWarnings,
          logList: opts.logList,
          skipCommitmentCheck: opts.skipCommitmentCheck,
          narrowing: { ...(opts.constrainAsset ? { assets: opts.constrainAsset } : {}), ...(opts.constrainPurpose ? { purposes: opts.constrainPurpose } : {}), ...(maxLifetime !== undefined ? { maxLifetime } : {}) },
          cwtWithoutAssetConstraints: opts.cwtWithoutAssetConstraints,
          onReview: (review) => {
            if (!opts.json) process.stderr.write(formatReview(review));
          },
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(json)}\n`);
        else process.stdout.write(`Granted ${rec.id}: ${rec.organization}, root key ${rec.kid}, constraints ${JSON.stringify(rec.constraints)}, eras ${eras.join('+')}, expires ${iso(rec.expires)}\n${warning ? `WARNING ${warning.code}: ${warning.message}\n` : ''}Wrote ${opts.out} (send it; the organisation runs emblem org import-endorsement --dir D ${opts.out})\n`);
      } finally {
        rt.close();
      }
    });

  common(authority.command('list').description('every endorsement in the registry: organisation, kid, status, expiry'))
    .option('--expiring <duration>', 'only active ones expiring within this (e.g. 30d)')
    .action(async (opts: Common & { expiring?: string }) => {
      const { parseDuration } = await import('../duration.js');
      const { listWorkflow } = await import('../../authority/workflows.js');
      const now = await nowOf(opts);
      const listed = await listWorkflow(opts.dir, now, opts.expiring ? parseDuration(opts.expiring, '--expiring') : undefined);
      if (opts.json) process.stdout.write(`${JSON.stringify(listed)}\n`);
      else {
        if (listed.endorsements.length === 0) process.stdout.write('no endorsements\n');
        for (const e of listed.endorsements) process.stdout.write(`${e.status.padEnd(10)} ${e.expires}  ${e.organization}  ${e.kid}  ${e.id}\n`);
      }
    });

  common(authority.command('show').description('the registry records of one organisation (https://host or host) or root kid'))
    .argument('<org-or-kid>')
    .action(async (target: string, opts: Common) => {
      const { recordJson } = await import('../../authority/workflows.js');
      const now = await nowOf(opts);
      const reg = await registry(opts.dir, now);
      try {
        const rows = reg.find(target);
        if (rows.length === 0) throw new UsageError(`no endorsement of ${target} in the registry`, 'NOT_FOUND');
        if (opts.json) process.stdout.write(`${JSON.stringify({ endorsements: rows.map((r) => recordJson(r, now)) })}\n`);
        else for (const r of rows) process.stdout.write(`${JSON.stringify(recordJson(r, now), null, 2)}\n`);
      } finally {
        reg.close();
      }
    });

  common(authority.command('revoke').description('stop renewing the endorsements of an organisation or root kid, mark them revoked, say when the last published copy expires'))
    .argument('<org-or-kid>')
    .requiredOption('--reason <text>', 'why (kept in the registry)')
    .action(async (target: string, opts: Common & { reason: string }) => {
      const now = await nowOf(opts);
      const reg = await registry(opts.dir, now);
      try {
        const all = reg.find(target);
        if (all.length === 0) throw new UsageError(`no endorsement of ${target} in the registry`, 'NOT_FOUND');
        const revoked = reg.revoke(target, opts.reason, now);
        const lastExpiry = Math.max(...all.map((r) => r.expires));
        const stillValid = lastExpiry > now;
        const out = { revoked: revoked.map((r) => r.id), lastCopyExpires: iso(lastExpiry), stillValid };
        if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
        else process.stdout.write(`Revoked ${revoked.length} endorsement(s) of ${target}; they will not be renewed.\n${stillValid ? `ADEM has no revocation list: copies already sent stay valid until ${out.lastCopyExpires} (short lifetimes are the revocation mechanism).` : 'Every copy sent has expired.'}\n`);
      } finally {
        reg.close();
      }
    });

  common(authority.command('renew').description('re-sign the active endorsements expiring soon, same constraints and lifetime, new response files'))
    .requiredOption('--all-expiring <duration>', 'renew those expiring within this (e.g. 30d)')
    .option('--out-dir <folder>', 'where the new responses go (default <dir>/responses)')
    .option('--pkcs11-pin-file <file>', 'PIN of a PKCS#11 root key')
    .action(async (opts: Common & { allExpiring: string; outDir?: string; pkcs11PinFile?: string }) => {
      const { renewExpiringWithBundle } = await import('../../authority/renew.js');
      const { parseDuration } = await import('../duration.js');
      const { join } = await import('node:path');
      const rt = await open(opts);
      const reg = await registry(opts.dir, rt.now);
      try {
        const { renewed, bundle } = await renewExpiringWithBundle(rt, reg, { window: parseDuration(opts.allExpiring, '--all-expiring'), outDir: opts.outDir ?? join(opts.dir, 'responses') });
        if (opts.json) process.stdout.write(`${JSON.stringify({ renewed, bundle })}\n`);
        else {
          process.stdout.write(`Renewed ${renewed.length} endorsement(s)${bundle ? `; all of them in one bundle: ${bundle}` : ''}\n`);
          for (const r of renewed) process.stdout.write(`  ${r.organization} ${r.kid}: ${r.id} until ${r.expires} -> ${r.out}\n`);
        }
      } finally {
        reg.close();
        rt.close();
      }
    });
  registerAuthorityLint(authority);
}

/** `emblem authority lint`: a subcommand of `authority`, registered at the end of registerAuthority. */
export function registerAuthorityLint(authority: Command): void {
  common(authority.command('lint').description('check the authority folder: revocation policy vs endorsement lifetime, CORE maximum, CT log list, binding, key at rest (each finding: code, severity, message, fix)'))
    .addHelpText('after', `
Short lifetimes are ADEM's revocation mechanism: there is no revocation list, a revoked endorsement stays valid
until it expires. Set "revocationWithin" (e.g. 30d) in emblem-authority.json and a "lifetime" no longer than it.
Codes: error REVOCATION_SLOWER_THAN_POLICY, LIFETIME_OVER_MAX, LIFETIME_INVALID, REVOCATION_POLICY_INVALID,
BINDING_MISSING, ROOT_KEY_UNREADABLE; warning REVOCATION_POLICY_MISSING, ISSUED_OUTLIVE_POLICY, CT_LOG_LIST_MISSING,
COMMITMENT_CHECK_DISABLED, ROOT_KEY_UNENCRYPTED.
JSON: {"findings": [{"code", "severity", "message", "fix"}]}. Exit codes: 0 no error (warnings allowed); 1 errors; 2 usage.`)
    .action(async (opts: Common) => {
      const { lintAuthority } = await import('../../authority/lint.js');
      const findings = await lintAuthority(opts.dir, await nowOf(opts));
      if (opts.json) process.stdout.write(`${JSON.stringify({ findings })}\n`);
      else for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n  fix: ${f.fix}\n`);
      if (!opts.json && findings.length === 0) process.stdout.write('no findings\n');
      process.exitCode = findings.some((f) => f.severity === 'error') ? ExitCode.NOT_VALID : ExitCode.OK;
    });
}
