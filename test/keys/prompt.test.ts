import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canPrompt, promptHidden, promptNewPassphrase, type PromptIo } from '../../src/cli/passphrase-prompt.js';
import { CLI } from '../helpers/cli.js';

/**
 * The passphrase prompt: unit tests on a fake terminal (raw mode switched on and restored, line editing, cancel),
 * and end-to-end runs of the CLI on a real pseudo-terminal made by util-linux `script`, which check that the
 * passphrase is not echoed.
 */

class FakeTty extends PassThrough {
  isTTY = true;
  isRaw = false;
  rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.rawModes.push(mode);
    return this;
  }
}

function fakeIo(): { io: PromptIo; tty: FakeTty; shown: () => string } {
  const tty = new FakeTty();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d) => (shown += d));
  return { io: { input: tty, output }, tty, shown: () => shown };
}

describe('prompt on a fake terminal', () => {
  test('reads one line in raw mode, restores the mode, and shows only the label', async () => {
    const { io, tty, shown } = fakeIo();
    const answer = promptHidden('Passphrase: ', io);
    tty.write('secret');
    tty.write(' words\r');
    assert.equal(await answer, 'secret words');
    assert.deepEqual(tty.rawModes, [true, false]);
    assert.equal(shown(), 'Passphrase: \n');
  });

  test('backspace, Ctrl-U and escape sequences edit the line; multi-byte characters count as one', async () => {
    const { io, tty } = fakeIo();
    const answer = promptHidden('P: ', io);
    tty.write('wrong\u0015right\u007f\u007fht\u001b[A');
    tty.write('ünï\u007f\r');
    assert.equal(await answer, 'rightün');
  });

  test('Ctrl-C and Ctrl-D on an empty line cancel, and raw mode is restored', async () => {
    for (const key of ['\u0003', '\u0004']) {
      const { io, tty } = fakeIo();
      const answer = promptHidden('P: ', io);
      tty.write(`${key === '\u0003' ? 'abc' : ''}${key}`);
      await assert.rejects(answer, /cancelled/);
      assert.equal(tty.isRaw, false);
    }
  });

  test('a new passphrase is asked twice: a mismatch or an empty one is refused; typed-ahead input is kept', async () => {
    {
      const { io, tty, shown } = fakeIo();
      const answer = promptNewPassphrase('k.jwk', io);
      tty.write('same one\rsame one\r'); // both lines at once (pasted)
      assert.equal(await answer, 'same one');
      assert.match(shown(), /^New passphrase for k\.jwk: \nRepeat the new passphrase: \n$/);
    }
    {
      const { io, tty } = fakeIo();
      const answer = promptNewPassphrase('k.jwk', io);
      tty.write('one\rtwo\r');
      await assert.rejects(answer, /passphrases entered differ/);
    }
    {
      const { io, tty } = fakeIo();
      const answer = promptNewPassphrase('k.jwk', io);
      tty.write('   \r');
      await assert.rejects(answer, /empty or only whitespace/);
    }
  });

  test('no prompt when the input is not a terminal', async () => {
    const io = { input: new PassThrough(), output: new PassThrough() };
    assert.equal(canPrompt(io), false);
    await assert.rejects(promptHidden('P: ', io), /not a terminal/);
  });
});

const haveScript = spawnSync('script', ['--version']).status === 0;

/**
 * Runs the CLI inside `script` (a pseudo-terminal) and types each answer only once its prompt has appeared, as a
 * person would: text typed earlier would be echoed by the terminal before the CLI turns echo off.
 */
function runOnPty(args: string[], answers: Array<[RegExp, string]>, env: Record<string, string | undefined> = {}): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, EMBLEM_PASSPHRASE: undefined, EMBLEM_NEW_PASSPHRASE: undefined, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    let answered = 0; // screen length when the last answer was typed: the next prompt must come after it
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no prompt ${answers[next]?.[0]} on the terminal; screen so far: ${JSON.stringify(screen)}`));
    }, 60_000);
    child.stdout.on('data', (d) => {
      screen += d;
      const pending = answers[next];
      if (pending && pending[0].test(screen.slice(answered))) {
        answered = screen.length;
        next++;
        child.stdin.write(`${pending[1]}\r`);
      }
    });
    child.stderr.on('data', (d) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen });
    });
  });
}

describe('prompt on a pseudo-terminal (util-linux script)', { skip: haveScript ? false : 'util-linux `script` is not installed' }, () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'emblem-prompt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('keygen --encrypt asks twice without echo and writes an encrypted key', async () => {
    const r = await runOnPty(['keygen', '--alg', 'ES256', '--encrypt', '--out', path('t.jwk')], [
      [/New passphrase for .*t\.jwk: /, 'typed on the tty'],
      [/Repeat the new passphrase: /, 'typed on the tty'],
    ]);
    assert.equal(r.code, 0, r.screen);
    assert.ok(!r.screen.includes('typed on the tty'), `echoed: ${r.screen}`);
    assert.match(r.screen, /"encrypted":true/);
    assert.equal(readFileSync(path('t.jwk'), 'utf8').trim().split('.').length, 5);
    writeFileSync(path('pass'), 'typed on the tty\n');
    const sign = spawnSync(process.execPath, [CLI, 'sign', 'emblem', '--key', path('t.jwk'), '--asset', 'a.example', '--passphrase-file', path('pass')], { encoding: 'utf8' });
    assert.equal(sign.status, 0, sign.stderr);
  });

  test('keygen --encrypt with two different answers writes nothing', async () => {
    const r = await runOnPty(['keygen', '--alg', 'ES256', '--encrypt', '--out', path('u.jwk')], [
      [/New passphrase/, 'one thing'],
      [/Repeat/, 'another thing'],
    ]);
    assert.equal(r.code, 2, r.screen);
    assert.match(r.screen, /passphrases entered differ; nothing was written/);
    assert.ok(!existsSync(path('u.jwk')));
  });

  test('key passwd asks for the old passphrase once and the new one twice', async () => {
    const r = await runOnPty(['key', 'passwd', path('t.jwk'), '--json'], [
      [/Passphrase for .*t\.jwk: /, 'typed on the tty'],
      [/New passphrase for .*t\.jwk: /, 'a new one'],
      [/Repeat the new passphrase: /, 'a new one'],
    ]);
    assert.equal(r.code, 0, r.screen);
    assert.ok(!r.screen.includes('typed on the tty') && !r.screen.includes('a new one'), `echoed: ${r.screen}`);
    assert.match(r.screen, /"oldFile":".*t\.jwk\.replaced-\d{8}T\d{6}Z"/);
    const decrypt = spawnSync(process.execPath, [CLI, 'key', 'decrypt', '--yes-write-plaintext', path('t.jwk')], {
      encoding: 'utf8',
      env: { ...process.env, EMBLEM_PASSPHRASE: 'a new one' },
    });
    assert.equal(decrypt.status, 0, decrypt.stderr);
    assert.ok(JSON.parse(readFileSync(path('t.jwk'), 'utf8')).d);
  });
});
