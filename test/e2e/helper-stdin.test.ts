/**
 * The helper's stdin as each kind of client gives it: a pipe (docker, containers/image, docker-py)
 * and a socket (node's child_process, as editors and node tools start it), the server URL written
 * late and in pieces. Either way the helper reads the descriptor itself and answers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argvFor } from './harness/build.js';
import { clientHome, spawnCollect, type ClientHome } from './harness/clients.js';

let home: ClientHome;
const ANSWER = '{"ServerURL":"late.example.com","Username":"lea","Secret":"late-secret"}\n';

beforeAll(async () => {
  home = await clientHome();
  const [file, args] = argvFor('helper', ['store']);
  const stored = await home.run(file, args, {
    stdin: JSON.stringify({ ServerURL: 'late.example.com', Username: 'lea', Secret: 'late-secret' }),
  });
  expect(stored.code, stored.stderr).toBe(0);
}, 60_000);
afterAll(() => home.cleanup());

/** Runs `get` with its stdin a socket or a pipe, `pieces` written `gapMs` apart: what it printed and its exit code. */
function get(stdio: 'pipe' | 'socket', pieces: string[], gapMs: number): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const [file, args] = argvFor('helper', ['get']);
  // A socket is what node gives a child; a pipe comes from a shell that writes the pieces slowly.
  const script = pieces.map((piece) => `sleep ${gapMs / 1000}; printf '%s' '${piece}'`).join('; ');
  const [command, argv] = stdio === 'socket' ? [file, args] : ['sh', ['-c', `(${script}) | exec "$0" "$@"`, file, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, argv as string[], { env: home.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    if (stdio === 'pipe') {
      child.stdin.end();
      return;
    }
    let at = 0;
    const next = () => {
      if (at === pieces.length) child.stdin.end();
      else {
        child.stdin.write(pieces[at++]!);
        setTimeout(next, gapMs);
      }
    };
    setTimeout(next, gapMs);
  });
}

describe('the helper reads stdin however a client gives it', { timeout: 30_000 }, () => {
  it.each(['socket', 'pipe'] as const)('a %s, the server URL in two pieces written 300 ms apart: answered', async (stdio) => {
    expect(await get(stdio, ['late.exa', 'mple.com\n'], 300)).toEqual({ stdout: ANSWER, stderr: '', code: 0 });
  });
});

/** CPU time (user + system, in clock ticks) the process has used so far. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a pipe that stays empty', { timeout: 30_000 }, () => {
  it('the helper waits for the writer without spinning, then answers', async () => {
    // A named pipe with the writer's end held here: the helper's stdin is a pipe with nothing in it
    // until the client (this test) writes, 3.5 s later.
    const fifo = join(home.dir, 'slow-client.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const [file, args] = argvFor('helper', ['get']);
    const child = spawn(file, args, { env: home.env, stdio: [reader, 'pipe', 'pipe'] });
    closeSync(reader);
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await sleep(1_000); // started, and waiting
    const before = cpuTicks(child.pid!);
    await sleep(2_500);
    const waited = cpuTicks(child.pid!) - before;
    writeSync(writer, 'late.example.com');
    closeSync(writer);
    expect(await closed).toBe(0);
    expect(stdout).toBe(ANSWER);
    // 2.5 s of waiting: a read every millisecond spent 25-30 ticks (0.25-0.3 s of CPU) here
    expect(waited).toBeLessThanOrEqual(8);
  });
});

describe('a stdin that is no input: one line and exit 1', { timeout: 30_000 }, () => {
  const run = async (redirect: string) => {
    const [file, args] = argvFor('helper', ['get']);
    const { stdout, stderr, code } = await spawnCollect('sh', ['-c', `exec "$0" "$@" ${redirect}`, file, ...args], home.env);
    return { stdout, stderr, code };
  };

  it.each([
    ['closed', '<&-', 'no credentials server URL\n'],
    ['/dev/null', '</dev/null', 'no credentials server URL\n'],
    ['a directory', '</', 'cannot read stdin: it is a directory\n'],
  ])('stdin %s', async (_kind, redirect, message) => {
    expect(await run(redirect)).toEqual({ stdout: message, stderr: '', code: 1 });
  });
});

describe('the helper answers on stdout however it is given', { timeout: 30_000 }, () => {
  it('an answer that cannot be written (a full disk): one line on stderr and exit 1', async () => {
    const [file, args] = argvFor('helper', ['get']);
    const result = await new Promise<{ stderr: string; code: number | null }>((resolve, reject) => {
      const child = spawn('sh', ['-c', 'printf late.example.com | exec "$0" "$@" >/dev/full', file, ...args], { env: home.env });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ stderr, code }));
    });
    expect(result).toEqual({ stderr: 'berth: error: cannot write the answer: ENOSPC\n', code: 1 });
  });

  it('a reader that went away (EPIPE) is not an error', async () => {
    const [file, args] = argvFor('helper', ['get']);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('bash', ['-c', 'set -o pipefail; printf late.example.com | "$0" "$@" | true', file, ...args], { env: home.env });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
  });
});
