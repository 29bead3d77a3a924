import type { Readable } from 'node:stream';

/** One line of input; `tooLong` lines are reported without their text so a hostile file cannot exhaust memory. */
export interface InputLine {
  text: string;
  tooLong: boolean;
  /** Input bytes this line took, its line feed included: how far into the input the reader has got. */
  bytes: number;
}

/**
 * Splits a byte stream into lines (LF or CRLF) without ever holding more than `maxBytes` of one line. Reading is
 * pull-based: the stream is only read when the consumer asks for the next line, which is the back-pressure that
 * keeps a scan of a billion-line file in bounded memory.
 */
export async function* readLines(input: Readable | AsyncIterable<Uint8Array | string>, maxBytes: number): AsyncGenerator<InputLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let consumed = 0;
  const finish = (terminator: number): InputLine => {
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    const line = { text: tooLong ? '' : buf.toString('utf8'), tooLong, bytes: consumed + terminator };
    parts = [];
    size = 0;
    tooLong = false;
    consumed = 0;
    return line;
  };
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const nl = buf.indexOf(0x0a);
      const piece = nl === -1 ? buf : buf.subarray(0, nl);
      consumed += piece.length;
      if (!tooLong) {
        if (size + piece.length > maxBytes) {
          tooLong = true;
          parts = [];
        } else if (piece.length > 0) {
          // Copy: the chunk may be reused by the stream, and we keep only this line's bytes.
          parts.push(Buffer.from(piece));
          size += piece.length;
        }
      }
      if (nl === -1) break;
      yield finish(1);
      buf = buf.subarray(nl + 1);
    }
  }
  if (size > 0 || tooLong) yield finish(0);
}
