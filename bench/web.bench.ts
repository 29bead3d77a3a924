import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** The issue's target for the dashboard's first load, compressed. */
const TARGET_BYTES = 200 * 1024;

/** Bytes of one GET's response as sent: the status line and headers plus the body (node:http does not decompress). */
function transfer(url: string, encoding: string): Promise<{ bytes: number; status: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': encoding }, agent: false }, (res) => {
      // "HTTP/1.1 200 OK\r\n", then "name: value\r\n" per header (name + ": ", value + "\r\n"), then "\r\n".
      let bytes = 17 + res.rawHeaders.reduce((s, h) => s + h.length + 2, 0) + 2;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ bytes, status: res.statusCode ?? 0, encoding: String(res.headers['content-encoding'] ?? 'identity') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The dashboard's first load as a browser with an empty cache fetches it from `emblem serve`: the page (a deep
 * link), the bundle, the stylesheet and the icon; API answers excluded (they depend on the name checked).
 */
const suite: BenchSuite = {
  name: 'web',
  async run() {
    const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--rate-limit', '0', '--tokens', '/dev/null/none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve((JSON.parse(out.slice(0, out.indexOf('\n'))) as { url: string }).url);
        });
        child.once('exit', (code) => reject(new Error(`emblem serve exited with ${code}`)));
      });
      for (const encoding of ['br, gzip', 'gzip', 'identity']) {
        let total = 0;
        const parts: string[] = [];
        for (const path of ['/check?name=clinic.hospital.example', '/app.js', '/app.css', '/favicon.svg']) {
          const r = await transfer(`${url}${path}`, encoding);
          if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
          total += r.bytes;
          parts.push(`${path.split('?')[0]} ${r.bytes} B (${r.encoding})`);
        }
        console.log(`dashboard first load, accept-encoding ${encoding}: ${(total / 1024).toFixed(1)} KiB on the wire${encoding === 'identity' ? '' : ` (target < ${TARGET_BYTES / 1024} KiB: ${total < TARGET_BYTES ? 'met' : 'NOT met'})`}; ${parts.join(', ')}`);
      }
    } finally {
      child.kill('SIGTERM');
    }
  },
};
export default suite;
