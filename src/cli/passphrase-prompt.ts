import { UsageError } from './exit.js';
import { assertUsablePassphrase } from '../store/key-file.js';

/**
 * Asking for a passphrase on the terminal, without echo. Only standard input is used, and only when it is a
 * terminal: a command run from a script or a pipe never blocks on the controlling terminal (/dev/tty) behind its
 * caller's back; it fails and says which flag or variable to set. The prompt goes to standard error, so the JSON
 * on standard output stays clean.
 */
export interface PromptInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface PromptIo {
  input: PromptInput;
  output: NodeJS.WritableStream;
}

const defaultIo = (): PromptIo => ({ input: process.stdin, output: process.stderr });

export function canPrompt(io: PromptIo = defaultIo()): boolean {
  return io.input.isTTY === true && typeof io.input.setRawMode === 'function';
}

/**
 * Reads one line with echo off (raw mode; restored afterwards, also on Ctrl-C). Backspace deletes a character,
 * Ctrl-U the whole line; Ctrl-C, or Ctrl-D on an empty line, cancels.
 */
export function promptHidden(label: string, io: PromptIo = defaultIo()): Promise<string> {
  const { input, output } = io;
  if (!canPrompt(io)) return Promise.reject(new UsageError('cannot ask for a passphrase: standard input is not a terminal'));
  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw === true;
    let text = '';
    const finish = (err?: Error): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.setRawMode!(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: string | Buffer): void => {
      const chars = Array.from(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        if (ch === '\r' || ch === '\n') {
          // Typed ahead (the repeated passphrase, pasted together): leave it for the next prompt.
          const rest = chars.slice(i + 1).join('').replace(/^\n/, '');
          finish();
          if (rest) input.unshift(rest);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(new UsageError('passphrase entry cancelled'));
        if (ch === '\u007f' || ch === '\b') text = Array.from(text).slice(0, -1).join('');
        else if (ch === '\u0015') text = '';
        else if (ch === '\u001b') break; // an escape sequence (arrow keys): ignore the rest of it
        else if (ch >= ' ') text += ch;
      }
    };
    const onEnd = (): void => finish(new UsageError('passphrase entry cancelled (end of input)'));
    const onError = (err: Error): void => finish(err);
    input.setRawMode!(true);
    input.setEncoding('utf8');
    output.write(label);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

/** Asks for a new passphrase twice; refuses an empty one and a mismatch. */
export async function promptNewPassphrase(what: string, io: PromptIo = defaultIo()): Promise<string> {
  const first = await promptHidden(`New passphrase for ${what}: `, io);
  assertUsablePassphrase(first, 'the passphrase entered');
  const second = await promptHidden('Repeat the new passphrase: ', io);
  if (first !== second) throw new UsageError('the two passphrases entered differ; nothing was written');
  return first;
}

/** Asks once for the passphrase of an existing encrypted key. */
export async function promptExistingPassphrase(what: string, io: PromptIo = defaultIo()): Promise<string> {
  const passphrase = await promptHidden(`Passphrase for ${what}: `, io);
  if (passphrase === '') throw new UsageError('no passphrase entered');
  return passphrase;
}
