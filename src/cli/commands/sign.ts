import { Command, Option } from 'commander';
import ipaddr from 'ipaddr.js';
import { parseAssetIdentifier } from '../../core/identifiers/asset.js';
import { Limits } from '../../core/limits.js';
import { parseOrganizationIdentifier } from '../../core/identifiers/organization.js';
import type { EmblemSpec, EndorsementSpec, SigningKey } from '../../core/tokens/sign.js';
import { DISTRIBUTION_BITS, PURPOSE_BITS, type DistributionName, type Era, type PurposeName } from '../../core/tokens/token.js';
import { parseDuration, parseTime } from '../duration.js';
import { UsageError } from '../exit.js';
import { readPublicKeyFile, readSigningKey } from '../inputs.js';
import { parseLogOption } from '../log-option.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The signer loads when a token is signed, not at start-up (docs/performance.md, "CLI start-up"). */
async function signToken(...args: Parameters<typeof import('../../core/tokens/sign.js').signToken>) {
  return (await import('../../core/tokens/sign.js')).signToken(...args);
}

function checkOrganization(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseOrganizationIdentifier(value).text;
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/** "192.0.2.1", "192.0.2.0/24", "2001:db8::1": an address without the brackets an asset identifier needs. */
function bareAddress(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address!) || (address!.includes(':') && ipaddr.IPv6.isValid(address!));
}

function checkAssets(values: string[], flag: string): string[] {
  for (const v of values) {
    // Without brackets an address reads as a domain name (all-numeric labels are legal DNS), which no lookup or
    // address ever matches: a silent dud emblem.
    if (bareAddress(v)) throw new UsageError(`${flag} ${v}: an address needs brackets; did you mean [${v}]?`);
    try {
      parseAssetIdentifier(v);
    } catch (err) {
      throw new UsageError(`${flag} ${v}: ${(err as Error).message}`);
    }
  }
  return values;
}

function checkNames<T extends string>(values: string[] | undefined, table: Record<T, number>, flag: string): T[] | undefined {
  if (!values) return undefined;
  for (const v of values) if (!Object.hasOwn(table, v)) throw new UsageError(`${flag} must be one of ${Object.keys(table).join(', ')}; got ${v}`);
  return values as T[];
}

interface TimeFlags {
  json?: boolean;
  lifetime: string;
  notBefore?: string;
  at?: string;
}

/** A duration flag bounded by Limits.maxTokenLifetimeSeconds (the core signer refuses longer ones too). */
function boundedDuration(text: string, flag: string): number {
  const seconds = parseDuration(text, flag);
  const max = Limits.maxTokenLifetimeSeconds;
  if (seconds > max) {
    throw new UsageError(`${flag} ${text} is longer than the limit of ${max / 86_400} days (ADEM tokens are short-lived and renewed)`);
  }
  return seconds;
}

function times(flags: TimeFlags): { iat: number; nbf: number; exp: number } {
  // --at fixes the signing time (iat, and the default start of validity), so scripts and tests are reproducible.
  const signedAt = flags.at ? parseTime(flags.at, '--at') : new Date();
  const iat = Math.floor(signedAt.getTime() / 1000);
  const lifetime = boundedDuration(flags.lifetime, '--lifetime');
  const nbf = flags.notBefore ? Math.floor(parseTime(flags.notBefore, '--not-before').getTime() / 1000) : iat;
  if (nbf < 0 || nbf + lifetime > Limits.maxNumericDate) {
    throw new UsageError(`--not-before ${flags.notBefore}: the token must start after 1970 and end by 9999-12-31T23:59:59Z`);
  }
  return { iat, nbf, exp: nbf + lifetime };
}

function commonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--key <file>', 'private key that signs (from emblem keygen)')
    .option('--iss <oi>', 'issuer organisation identifier, https://<host>')
    .addOption(new Option('--era <era>', 'jws: CORE-01 JWS, as deployed; cwt: CORE-02 CWT').choices(['jws', 'cwt']).default('jws'))
    .option('--lifetime <duration>', `validity from --not-before (30d, 12h, ...; at most ${Limits.maxTokenLifetimeSeconds / 86_400}d)`, '30d')
    .option('--not-before <time>', 'start of validity (ISO-8601, default: the signing time)')
    .option('--at <time>', 'signing time, the token\'s iat (ISO-8601, default now)')
    .option('--embed-key', 'JWS only: put the public key in the header ("jwk") instead of naming it by "kid"')
    .option('--passphrase-file <file>', 'passphrase of an encrypted key file (default $EMBLEM_PASSPHRASE)')
    .option('--json', 'print {era, kind, kid, token} instead of the bare token');
}

function print(token: { text: string }, json: boolean | undefined, context: { era: Era; kind: 'emblem' | 'endorsement'; key: SigningKey }): void {
  if (!json) {
    process.stdout.write(`${token.text}\n`);
    return;
  }
  const kid = context.era === 'jws' ? context.key.publicKey.jwsKid : context.key.publicKey.coseKidText;
  process.stdout.write(`${JSON.stringify({ era: context.era, kind: context.kind, kid, token: token.text })}\n`);
}

export function registerSign(program: Command): void {
  const sign = program.command('sign').description('sign an emblem or an endorsement; prints one token (JWS compact, or CWT as hex)');

  commonOptions(sign.command('emblem').description('sign an emblem for one or more assets'))
    .requiredOption('--asset <ai>', 'asset identifier: domain, *.domain, [IPv6], [IPv6/len], [IPv4] (repeatable)', collect)
    .option('--purpose <p>', `purpose (repeatable; default protective): ${Object.keys(PURPOSE_BITS).join(', ')} (JWS: protective, indicative)`, collect)
    .option('--dst <method>', 'JWS only: distribution method (repeatable): dns', collect)
    .addHelpText('after', '\nExample:\n  emblem sign emblem --key hospital.jwk --asset hospital.example --iss https://hospital.example --lifetime 7d > emblem.jws')
    .action(async (opts: TimeFlags & { key: string; iss?: string; era: Era; embedKey?: boolean; asset: string[]; purpose?: string[]; dst?: string[]; passphraseFile?: string }) => {
      const key = await readSigningKey(opts.key, opts.passphraseFile);
      const spec: EmblemSpec = {
        ...times(opts),
        assets: checkAssets(opts.asset, '--asset'),
        purposes: checkNames<PurposeName>(opts.purpose, PURPOSE_BITS, '--purpose'),
        distribution: checkNames<DistributionName>(opts.dst, DISTRIBUTION_BITS, '--dst'),
      };
      const iss = checkOrganization(opts.iss, '--iss');
      if (iss) spec.iss = iss;
      print(await signToken(opts.era, 'emblem', spec, key, { embedKey: opts.embedKey }), opts.json, { era: opts.era, kind: 'emblem', key });
    });

  commonOptions(sign.command('endorsement').description('sign an endorsement of another key (internal: same --iss as the emblem; external: an authority endorsing an organisation)'))
    .requiredOption('--endorse <file>', 'public key being endorsed (JWK or PEM)')
    .option('--sub <oi>', 'organisation identifier of the endorsed key (internal endorsements: the emblem issuer)')
    .option('--end', 'the endorsed key may itself endorse keys (set on every link above the emblem key)')
    .option('--constrain-asset <ai>', 'JWS only: assets the endorsed key may mark (repeatable)', collect)
    .option('--constrain-purpose <p>', 'purposes the endorsed key may claim (repeatable)', collect)
    .option('--constrain-dst <method>', 'JWS only: distribution methods allowed (repeatable)', collect)
    .option('--max-lifetime <duration>', 'JWS only: longest emblem lifetime allowed (wnd)')
    .option('--log <json|file>', 'CT log entries of the binding certificate (output of emblem ct leafhash); required on root endorsements')
    .addHelpText('after', '\nExample:\n  emblem sign endorsement --key org-root.jwk --endorse hospital.pub.jwk --iss https://hospital.example \\\n    --sub https://hospital.example --log log.json > root-endorsement.jws')
    .action(async (opts: TimeFlags & { key: string; iss?: string; era: Era; embedKey?: boolean; endorse: string; sub?: string; end?: boolean; constrainAsset?: string[]; constrainPurpose?: string[]; constrainDst?: string[]; maxLifetime?: string; log?: string; passphraseFile?: string }) => {
      const key = await readSigningKey(opts.key, opts.passphraseFile);
      const spec: EndorsementSpec = {
        ...times(opts),
        endorse: await readPublicKeyFile(opts.endorse),
        end: opts.end === true,
        purposes: checkNames<PurposeName>(opts.constrainPurpose, PURPOSE_BITS, '--constrain-purpose'),
        distribution: checkNames<DistributionName>(opts.constrainDst, DISTRIBUTION_BITS, '--constrain-dst'),
        assets: opts.constrainAsset ? checkAssets(opts.constrainAsset, '--constrain-asset') : undefined,
        window: opts.maxLifetime ? boundedDuration(opts.maxLifetime, '--max-lifetime') : undefined,
        log: opts.log !== undefined ? parseLogOption(opts.log) : undefined,
      };
      const iss = checkOrganization(opts.iss, '--iss');
      const sub = checkOrganization(opts.sub, '--sub');
      if (iss) spec.iss = iss;
      if (sub) spec.sub = sub;
      print(await signToken(opts.era, 'endorsement', spec, key, { embedKey: opts.embedKey }), opts.json, { era: opts.era, kind: 'endorsement', key });
    });
}
