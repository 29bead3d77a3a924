// Spawned by fast-paths.test.ts with the fast-path environment switches set: prints which paths are on and the
// reports of a few valid and invalid sets, verified with the process default, the thread-pool verifier and the
// public API's asynchronous path (asyncSignatureVerifier).
import { installNodeSignatureVerifier, nodeHashEnabled, nodeSignatureVerifier, spkiImportEnabled } from '../../src/crypto/node-signature-verifier.js';
import { asyncVerifyEnabled, threadPoolSignatureVerifier } from '../../src/crypto/thread-pool-signature-verifier.js';
import { asyncSignatureVerifier, WorkerSignatureVerifier } from '../../src/crypto/worker-signature-verifier.js';
import { nativeEs512 } from '../../src/native/es512.js';
import { cwtOrgChain, jwsOrgChain, makeKeys, verify } from '../helpers/tokens.js';

installNodeSignatureVerifier();
// The public API's asynchronous path; its threads (if any) are never closed: the process must still exit.
const asyncVerifier = asyncSignatureVerifier();
const asyncKind = asyncVerifier instanceof WorkerSignatureVerifier ? 'workers' : asyncVerifier === nodeSignatureVerifier ? 'sync' : 'thread-pool';
const reports: unknown[] = [];
// Fixed keys would be better for comparing across processes, but reports name kids; compare shapes instead.
const strip = (r: { emblem: unknown; verifiedAt: string; errors: Array<{ code: string }>; result: string[] }) => ({ result: r.result, codes: r.errors.map((e) => e.code) });
for (const alg of ['ES512', 'ES256', 'EdDSA'] as const) {
  const [emblem, root, authority] = await makeKeys(3, alg);
  const k = { emblem: emblem!, root: root!, authority: authority! };
  for (const chain of [jwsOrgChain, cwtOrgChain]) {
    const material = await chain(k, {});
    reports.push(strip(await verify(material)), strip(await verify(material, { verifier: threadPoolSignatureVerifier })), strip(await verify(material, { verifier: asyncVerifier })));
    const broken = material.filter((m) => m.kind !== 'jwk' || m !== material[material.length - 1]);
    reports.push(strip(await verify(broken)), strip(await verify(broken, { verifier: threadPoolSignatureVerifier })), strip(await verify(broken, { verifier: asyncVerifier })));
  }
}
process.stdout.write(JSON.stringify({ nodeHash: nodeHashEnabled, spki: spkiImportEnabled, async: asyncVerifyEnabled, asyncKind, threadPoolIsNode: threadPoolSignatureVerifier === nodeSignatureVerifier, native: nativeEs512() !== null, reports }));
