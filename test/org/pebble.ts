/**
 * Loopback ACME + CT for the `emblem org cert` tests: Debian's Pebble (its own HTTPS certificate made with openssl,
 * `-dnsserver` at the test's DNS server) and `emblem ct serve --roots <Pebble's root>` as the local CT log.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CLI } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { freeTcpPort } from '../helpers/ports.js';

export { freeTcpPort as freePort } from '../helpers/ports.js';

export const HAVE_PEBBLE = existsSync('/usr/bin/pebble');


export function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface Pebble {
  child: ChildProcess;
  directoryUrl: string;
  caPem: string;
  rootPem: string;
  stderr: () => string;
}

/** Pebble validating DNS-01 against 127.0.0.1:dnsPort; caPem (its HTTPS certificate) is what --acme-ca takes. */
export async function startPebble(dir: string, dnsPort: number): Promise<Pebble> {
  // Pebble's own HTTPS certificate (Debian ships no test certificate): self-signed for 127.0.0.1.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '3650',
    '-keyout', join(dir, 'pebble.key'), '-out', join(dir, 'pebble.crt'),
  ], { env: thirdPartyEnv(), stdio: 'pipe', timeout: 10_000 });
  const [acmePort, mgmtPort, httpPort, tlsPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: join(dir, 'pebble.crt'),
      privateKey: join(dir, 'pebble.key'),
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }));
  const child = spawn('/usr/bin/pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: thirdPartyEnv({ PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const caPem = readFileSync(join(dir, 'pebble.crt'), 'utf8');
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  for (let i = 0; ; i++) {
    try {
      if ((await httpsGet(directoryUrl, caPem)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (i > 100 || child.exitCode !== null) throw new Error(`pebble did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const roots = await httpsGet(`https://127.0.0.1:${mgmtPort}/roots/0`, caPem);
  assert.equal(roots.status, 200, roots.body);
  return { child, directoryUrl, caPem, rootPem: roots.body, stderr: () => log };
}

/** `emblem ct serve --roots <Pebble's root>` (the built CLI), as the acceptance flow runs it. */
export async function startCtServe(rootsFile: string): Promise<{ url: string; logListUrl: string; logId: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'ct', 'serve', '--listen', '127.0.0.1:0', '--roots', rootsFile, '--batch-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<{ url: string; logListUrl: string; logId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emblem ct serve did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emblem ct serve exited ${code}: ${err}`));
    });
  });
  return {
    ...ready,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

