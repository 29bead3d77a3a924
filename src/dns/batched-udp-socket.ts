import { createRequire } from 'node:module';

/** A UDP socket served in batches by the optional native module (native/udp_batch.c, Linux recvmmsg/sendmmsg). */
export interface BatchedUdpSocket {
  /** The bound port (the one asked, or the one the system picked for 0). */
  readonly port: number;
  close(): void;
  /** Responses the kernel refused to send (full send buffer, unreachable peer). */
  dropped(): number;
  /**
   * Sends up to 64 messages to one address with one sendmmsg; returns how many the kernel took (fewer when its send
   * buffer is full). Used by client sockets (the resolver's).
   */
  send(messages: Buffer[], host: string, port: number): number;
}

/** Answers one received batch: a response or null (no answer) per message, in order. Must not throw. */
export type BatchHandler = (messages: Buffer[], peers: string[]) => Array<Buffer | null>;

/**
 * A resolver client's received batch: every message in one Buffer, message i ending at `ends[i]` (and starting
 * where message i-1 ends), with its sender's address.
 */
export type ClientBatchHandler = (batch: Buffer, ends: number[], peers: string[]) => void;

interface BatchedUdpModule {
  open(host: string, port: number, ipv6: boolean, bufferBytes: number, handler: BatchHandler, client?: false): BatchedUdpSocket;
  /**
   * A resolver client's socket: its handler's promises settle before control returns to libuv (napi_make_callback),
   * nothing is sent back, and the socket does not keep the process alive.
   */
  open(host: string, port: number, ipv6: boolean, bufferBytes: number, handler: ClientBatchHandler, client: true): BatchedUdpSocket;
}

let loaded: BatchedUdpModule | null | undefined;

/**
 * The native module when it was built (`npm install` compiles it with node-gyp on Linux) and is not switched off
 * with EMBLEM_NATIVE_UDP=0; otherwise null and the server uses node:dgram. Both answer identically; the native
 * path makes two system calls per batch of up to 64 queries instead of two per query.
 */
export function batchedUdp(): BatchedUdpModule | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux' || process.env.EMBLEM_NATIVE_UDP === '0') return loaded;
  try {
    // src/dns/ and dist/dns/ are both two levels below the package root, where node-gyp puts build/.
    loaded = createRequire(import.meta.url)('../../build/Release/udp_batch.node') as BatchedUdpModule;
  } catch {
    loaded = null;
  }
  return loaded;
}
