import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildQuery } from '../../src/dns/resolver.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { freePort, tempDir, udpAsk } from '../dns/servers.js';
import { makeKeyFile, zoneText } from '../org/primaries.js';

/**
 * One Knot primary serving several zones (here the organisation's and the authority's), each open to RFC 2136
 * UPDATE with one TSIG key: Pebble's -dnsserver takes one server, so both DNS-01 flows must be answered by it.
 */
export interface KnotZones {
  port: number;
  keyFile: string;
  stop(): Promise<void>;
}

export async function startKnotZones(zones: string[]): Promise<KnotZones> {
  const dir = tempDir('emblem-knot-zones-');
  const port = await freePort();
  const key = makeKeyFile(dir.path);
  for (const z of zones) writeFileSync(join(dir.path, `${z}.zone`), zoneText(z));
  const conf = join(dir.path, 'knot.conf');
  writeFileSync(
    conf,
    `server:
    rundir: "${dir.path}"
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 2
    background-workers: 1
database:
    storage: "${dir.path}"
log:
  - target: stderr
    any: warning
key:
  - id: emblem-update
    algorithm: hmac-sha256
    secret: ${key.secret}
acl:
  - id: update
    key: emblem-update
    action: update
zone:
${zones
  .map(
    (z) => `  - domain: "${z}"
    storage: "${dir.path}"
    file: "${z}.zone"
    acl: update
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
`,
  )
  .join('')}`,
  );
  const child = spawn('knotd', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], env: thirdPartyEnv() });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      child.kill('SIGTERM');
      await exited;
    }
    dir.remove();
  };
  try {
    for (const z of zones) {
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        if (child.exitCode !== null) throw new Error(`knotd exited: ${log}`);
        const answer = await udpAsk(port, buildQuery(z, 6, 4242), 200);
        up = !!answer && (answer[3]! & 0xf) === 0 && answer.readUInt16BE(6) > 0;
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      if (!up) throw new Error(`knotd did not answer for ${z}: ${log}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, keyFile: key.path, stop };
}
