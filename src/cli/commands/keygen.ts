import { Command, Option } from 'commander';
import { generateSigningKey } from '../../core/tokens/sign.js';
import type { SignatureAlgorithm } from '../../core/tokens/algorithms.js';
import { writePrivateKeyFile } from '../../store/key-file.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import { readPassphrase } from '../inputs.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create a signing key: writes the private JWK (mode 0600, encrypted when a passphrase is set) and prints the public JWK with its kids')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['ES512', 'ES384', 'ES256', 'EdDSA']).default('ES512'))
    .requiredOption('--out <file>', 'where to write the private key')
    .option('--public-out <file>', 'also write the public JWK here (to publish, or to pass to --endorse / --trusted-key)')
    .option('--passphrase-file <file>', 'encrypt the private key with the passphrase in this file (default: $EMBLEM_PASSPHRASE if set)')
    .option('--json', 'print JSON (the default output is JSON too; accepted for symmetry)')
    .addHelpText('after', '\nExample:\n  emblem keygen --alg ES512 --out org-root.jwk --public-out org-root.pub.jwk')
    .action(async (opts: { alg: SignatureAlgorithm; out: string; publicOut?: string; passphraseFile?: string }) => {
      const { privateJwk, key } = await generateSigningKey(opts.alg);
      const passphrase = await readPassphrase(opts.passphraseFile);
      const { encrypted } = await writePrivateKeyFile(opts.out, privateJwk, passphrase);
      if (!encrypted) process.stderr.write(`emblem: ${opts.out} is not encrypted; set EMBLEM_PASSPHRASE or --passphrase-file to encrypt keys at rest\n`);
      if (opts.publicOut) await writeFileAtomic(opts.publicOut, `${JSON.stringify(key.publicKey.jwk)}\n`);
      process.stdout.write(`${JSON.stringify({ kid: key.publicKey.jwsKid, cwtKid: key.publicKey.coseKidText, jwk: key.publicKey.jwk, privateKeyFile: opts.out, encrypted })}\n`);
    });
}
