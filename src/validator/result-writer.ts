import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ScanLimits } from './limits.js';

/** Where finished lines go: an output file (appended, fsync'ed on a cadence) or standard output. */
export interface LineSink {
  write(data: string): Promise<void>;
  /** Makes what was written durable (fsync for files; nothing for pipes). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export function fileSink(handle: FileHandle): LineSink {
  return {
    async write(data) {
      await handle.write(data);
    },
    async sync() {
      await handle.datasync();
    },
    async close() {
      await handle.datasync();
      await handle.close();
    },
  };
}

export function streamSink(stream: Writable): LineSink {
  // A closed pipe (`emblem scan | head`) is reported through the write callback and ends the scan; without a
  // listener the 'error' event would also crash the process with a stack trace.
  let failure: Error | null = null;
  stream.on('error', (err) => (failure ??= err));
  return {
    write(data) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const ok = stream.write(data, (err) => (err ? reject(err) : undefined));
        if (ok) resolve();
        else stream.once('drain', resolve);
      });
    },
    async sync() {},
    async close() {},
  };
}

/**
 * Writes results in input order. Results finish out of order; each waits here until all earlier ones are done
 * (the pipeline bounds how many can wait). Lines are batched into few writes; a write only ever appends whole
 * lines, so after kill -9 the file is a prefix of the full output, possibly ending in one partial line that
 * --resume cuts off. Writes happen at most ScanLimits.flushIntervalMs apart, fsync at most once a second.
 */
export class OrderedResultWriter {
  private readonly waiting = new Map<number, string>();
  private buffer: string[] = [];
  private bufferBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private lastSync = 0;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  /** Index of the next line to be written; everything below it has been handed to the sink. */
  nextIndex: number;

  constructor(
    private readonly sink: LineSink,
    startIndex: number,
    private readonly onWritten: (index: number) => void = () => undefined,
  ) {
    this.nextIndex = startIndex;
  }

  /** Results waiting for an earlier one. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Idempotent: a result for an index already written or already waiting is dropped (at-least-once sources). */
  add(index: number, line: string): void {
    if (this.failure) throw this.failure;
    if (index < this.nextIndex || this.waiting.has(index)) return;
    this.waiting.set(index, line);
    while (this.waiting.has(this.nextIndex)) {
      const next = this.waiting.get(this.nextIndex)!;
      this.waiting.delete(this.nextIndex);
      this.buffer.push(next);
      this.bufferBytes += next.length;
      this.onWritten(this.nextIndex);
      this.nextIndex++;
    }
    if (this.bufferBytes >= ScanLimits.flushBytes) void this.flush();
    else if (this.buffer.length > 0 && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, ScanLimits.flushIntervalMs);
    }
  }

  /** Resolves when buffered output is small enough to take more (back-pressure from a slow disk or pipe). */
  async ready(): Promise<void> {
    if (this.bufferBytes >= 4 * ScanLimits.flushBytes) await this.flush();
    else await Promise.resolve();
    if (this.failure) throw this.failure;
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return this.writing;
    const data = this.buffer.join('');
    this.buffer = [];
    this.bufferBytes = 0;
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await this.sink.write(data);
        const now = Date.now();
        if (now - this.lastSync >= ScanLimits.fsyncIntervalMs) {
          this.lastSync = now;
          await this.sink.sync();
        }
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    });
    return this.writing;
  }

  /** Writes everything in order that can be written, makes it durable and closes the sink. */
  async close(): Promise<void> {
    await this.flush();
    await this.writing;
    await this.sink.close();
    if (this.failure) throw this.failure;
  }
}
