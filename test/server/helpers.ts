import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { CLI } from '../helpers/cli.js';

/** A CLI server started for a test: its "listening" line, its stderr, and stop(). */
export interface Started<L> {
  listening: L;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `emblem ARGS...` and waits for its {"event":"listening"} line on stdout. */
export async function startListening<L>(args: string[], env: NodeJS.ProcessEnv = {}, startTimeoutMs = 20_000): Promise<Started<L>> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const listening = await new Promise<L>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emblem ${args.join(' ')} did not start: ${stderr}`));
    }, startTimeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as L);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emblem ${args.join(' ')} exited with ${code}: ${stderr}`));
    });
  });
  return {
    listening,
    child,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** One DNS query over TCP (RFC 7766 framing) to 127.0.0.1:port. */
export function tcpAsk(port: number, message: Buffer, timeoutMs = 2_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('TCP query timed out'));
    }, timeoutMs);
    let data = Buffer.alloc(0);
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(data.subarray(2, 2 + data.readUInt16BE(0)));
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(message.length);
    sock.write(Buffer.concat([len, message]));
  });
}
