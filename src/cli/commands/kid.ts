import { Command, Option } from 'commander';
import { readPublicKeyFile } from '../inputs.js';

export function registerKid(program: Command): void {
  program
    .command('kid')
    .description('print the ADEM key identifier of a JWK or PEM public key (recomputed from the key; any "kid" in the file is ignored)')
    .argument('<file>', 'JWK (public or private) or PEM SubjectPublicKeyInfo')
    .addOption(new Option('--era <era>', 'jws: RFC 7638 JWK thumbprint (CORE-01); cwt: RFC 9679 COSE Key thumbprint (CORE-02)').choices(['jws', 'cwt']).default('jws'))
    .option('--json', 'print {"kid", "cwtKid", "jwk"}')
    .addHelpText('after', '\nExample:\n  emblem kid ../shared/interop/certs/emblem.pub.pem\n  emblem kid --era cwt org-root.pub.jwk')
    .action(async (file: string, opts: { era: 'jws' | 'cwt'; json?: boolean }) => {
      const key = await readPublicKeyFile(file);
      if (opts.json) process.stdout.write(`${JSON.stringify({ kid: key.jwsKid, cwtKid: key.coseKidText, jwk: key.jwk })}\n`);
      else process.stdout.write(`${opts.era === 'cwt' ? key.coseKidText : key.jwsKid}\n`);
    });
}
