// Script-style cases for `berth keygen|key-id|encrypt|decrypt|rekey|exec`: each runs the built
// berth of the selected build (test/e2e/harness/build.ts) in a fresh directory and checks stdout, stderr, the exit code and the files left.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { argvFor, berthCommand } from '../../e2e/harness/build.js';

const JET = join(import.meta.dirname, '../../vectors/jet-legacy');

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

let dir: string;

function berth(args: string[], { stdin, env = {} }: { stdin?: Buffer | string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(...argvFor('berth', args), {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, '.config'),
        XDG_DATA_HOME: join(dir, '.data'),
        ...env,
      },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.end(stdin ?? '');
  });
}

/** The files in the test directory, without the HOME dirs: proof that nothing was left behind. */
async function files(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.config') && !name.startsWith('.data')).sort();
}

beforeAll(() => {
  berthCommand('berth'); // throws when not built
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-encrypt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('berth keygen', () => {
  it('writes ./berth.aes with mode 0600 and prints its id; refuses to overwrite without --force', async () => {
    const first = await berth(['keygen']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout.toString()).toMatch(/^wrote key [0-9a-f]{16} to berth\.aes\n$/);
    expect((await stat(join(dir, 'berth.aes'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'berth.aes'), 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    const id = (await berth(['key-id'])).stdout.toString().trim();
    expect(first.stdout.toString()).toContain(id);

    const again = await berth(['keygen']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^berth: error: key file .*berth\.aes already exists\nberth: hint: use --force/);
    expect((await berth(['keygen', '--force'])).code).toBe(0);
    expect((await berth(['key-id'])).stdout.toString().trim()).not.toBe(id);
    expect(await files()).toEqual(['berth.aes']);
  });

  it('prints a key to stdout with -', async () => {
    const result = await berth(['keygen', '-']);
    expect(result.stdout.toString()).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(await files()).toEqual([]);
  });
});

describe('berth encrypt / decrypt', () => {
  beforeEach(async () => {
    await berth(['keygen']);
  });

  for (const size of [0, 1, 65536, 65537]) {
    for (const armor of [false, true]) {
      it(`round-trips ${size} bytes ${armor ? 'armored' : 'binary'}, file to file and stdin to stdout`, async () => {
        const plaintext = randomBytes(size);
        await writeFile(join(dir, 'plain'), plaintext);
        const encrypted = await berth(['encrypt', 'plain', 'plain.enc', ...(armor ? ['--armor'] : [])]);
        expect(encrypted).toMatchObject({ code: 0, stderr: '' });
        const head = (await readFile(join(dir, 'plain.enc'))).subarray(0, 10).toString('latin1');
        expect(head).toBe(armor ? '-----BEGIN' : 'berth.enc\0');
        expect(await berth(['decrypt', 'plain.enc', 'plain.out'])).toMatchObject({ code: 0, stderr: '' });
        expect((await readFile(join(dir, 'plain.out'))).equals(plaintext)).toBe(true);
        expect((await stat(join(dir, 'plain.out'))).mode & 0o777).toBe(0o600);

        const piped = await berth(['encrypt', '-', '-', ...(armor ? ['--armor'] : [])], { stdin: plaintext });
        const back = await berth(['decrypt', '-', '-'], { stdin: piped.stdout });
        expect(back).toMatchObject({ code: 0, stderr: '' });
        expect(back.stdout.equals(plaintext)).toBe(true);
      });
    }
  }

  it('encrypts for several keys; each opens the file; BERTH_AES_KEY works', async () => {
    await berth(['keygen', 'ci.aes']);
    await writeFile(join(dir, 'env'), 'A=1\n');
    expect((await berth(['encrypt', 'env', 'env.enc', '--key-path', 'berth.aes', '--key-path', 'ci.aes'])).code).toBe(0);
    const ciKey = (await readFile(join(dir, 'ci.aes'), 'utf8')).trim();
    await rm(join(dir, 'berth.aes'));
    expect((await berth(['decrypt', 'env.enc', '-'], { env: { BERTH_AES_KEY: ciKey } })).stdout.toString()).toBe('A=1\n');
  });

  describe('errors: one line each, exit 1, no output file left', () => {
    const errorCases: [string, () => Promise<string[]>, RegExp][] = [
      [
        'no key found',
        async () => (await rm(join(dir, 'berth.aes')), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: no key found \(looked in --key-path, BERTH_AES_KEY, \.\/berth\.aes, \.\/codeship\.aes\)\nberth: hint: /,
      ],
      [
        'malformed key file',
        async () => (await writeFile(join(dir, 'bad.aes'), 'short\n'), ['decrypt', 'sample.enc', 'out', '--key-path', 'bad.aes']),
        /^berth: error: malformed key in .*bad\.aes: expected 44 base64 characters, found 5\n/,
      ],
      [
        'wrong key',
        async () => (await berth(['keygen', 'other.aes']), ['decrypt', 'sample.enc', 'out', '--key-path', 'other.aes']),
        /^berth: error: sample\.enc: wrong key: the file is encrypted for [0-9a-f]{16}; your key is [0-9a-f]{16}\n/,
      ],
      [
        'tampered header',
        async () => (await flipByte('sample.enc', 20), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: header corrupted or tampered/,
      ],
      [
        'tampered middle chunk',
        async () => (await flipByte('sample.enc', 146 + 65552 + 7), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: data corrupted or tampered: chunk 1 failed authentication/,
      ],
      [
        'tampered tag',
        async () => (await flipByte('sample.enc', -1), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: data corrupted or tampered: chunk 2 failed/,
      ],
      [
        'truncated file',
        async () => (await cut('sample.enc', 146 + 2 * 65552), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: file truncated: it ends after chunk 1 without the final chunk\n/,
      ],
      [
        'not a berth file',
        async () => (await writeFile(join(dir, 'sample.enc'), 'hello world\n'), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: not a berth encrypted file\n/,
      ],
      [
        'codeship:v2 file',
        async () => (await writeFile(join(dir, 'sample.enc'), 'codeship:v2\nAAAA\n'), ['decrypt', 'sample.enc', 'out']),
        /^berth: error: sample\.enc: codeship:v2 files \(jet 2\.6\.0 and later\) are not supported/,
      ],
      [
        'output path unwritable',
        async () => (await writeFile(join(dir, 'afile'), ''), ['decrypt', 'sample.enc', 'afile/out']),
        /^berth: error: cannot write .*afile\/out: a parent is not a directory\n/,
      ],
      [
        'missing input',
        async () => ['decrypt', 'missing.enc', 'out'],
        /^berth: error: cannot read .*missing\.enc: no such file or directory\n/,
      ],
    ];
    for (const [what, setUp, stderr] of errorCases) {
      it(what, async () => {
        await writeFile(join(dir, 'sample'), randomBytes(2 * 65536 + 100));
        await berth(['encrypt', 'sample', 'sample.enc']);
        const before = await files();
        const args = await setUp();
        const result = await berth(args);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(stderr);
        expect(result.stderr.split('\n').filter((line) => line.startsWith('berth: error:'))).toHaveLength(1);
        expect(result.stdout.length).toBe(0);
        expect((await files()).filter((name) => !before.includes(name) && !['bad.aes', 'other.aes', 'afile'].includes(name))).toEqual([]);
      });
    }
  });
});

async function flipByte(name: string, at: number): Promise<void> {
  const data = await readFile(join(dir, name));
  const index = at < 0 ? data.length + at : at;
  data[index] = data[index]! ^ 0x01;
  await writeFile(join(dir, name), data);
}

async function cut(name: string, length: number): Promise<void> {
  await writeFile(join(dir, name), (await readFile(join(dir, name))).subarray(0, length));
}

describe('interrupted', () => {
  it('Ctrl-C during encryption removes the temporary file and exits 130', async () => {
    await berth(['keygen']);
    const child = spawn(...argvFor('berth', ['encrypt', '-', 'out.enc']), {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir },
    });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write(randomBytes(8 << 20));
    // Wait (without a fixed sleep) until the temporary output exists, then interrupt.
    while (!(await files()).some((name) => name.endsWith('.tmp'))) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    // If berth is waiting for input it notices the interrupt with the next piece; it may be gone.
    child.stdin.on('error', () => undefined);
    child.stdin.end(randomBytes(1 << 20));
    expect(await exited).toBe(130);
    expect(Buffer.concat(stderr).toString()).toBe('berth: error: interrupted; no output was written\n');
    expect(await files()).toEqual(['berth.aes']);
  });
});

describe('legacy jet files', () => {
  beforeEach(async () => {
    await copyFile(join(JET, 'environment.encrypted'), join(dir, 'environment.encrypted'));
    await copyFile(join(JET, 'codeship.aes'), join(dir, 'codeship.aes'));
    await chmod(join(dir, 'codeship.aes'), 0o600);
  });

  it('decrypts the public vector exactly with ./codeship.aes, warning that it is unauthenticated', async () => {
    const result = await berth(['decrypt', 'environment.encrypted', '-']);
    expect(result.code).toBe(0);
    expect(result.stdout.equals(await readFile(join(JET, 'environment.expected')))).toBe(true);
    expect(result.stderr).toBe(
      'berth: warning: environment.encrypted is a legacy jet file without authentication: tampering or a wrong key cannot be detected; convert it with: berth rekey environment.encrypted\n',
    );
  });

  it('berth rekey FILE (as the warning says) converts it for the same key', async () => {
    const result = await berth(['rekey', 'environment.encrypted']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toMatch(/^environment\.encrypted: keys 9dd8e9127a2106ad \(converted from a legacy jet file\)\n$/);
    const decrypted = await berth(['decrypt', 'environment.encrypted', '-']);
    expect(decrypted).toMatchObject({ code: 0, stderr: '' });
    expect(decrypted.stdout.equals(await readFile(join(JET, 'environment.expected')))).toBe(true);
  });

  it('berth rekey turns it into a berth file; then it opens without a warning', async () => {
    await berth(['keygen', 'new.aes']);
    const result = await berth(['rekey', 'environment.encrypted', '--key-path', 'codeship.aes', '--add', 'new.aes']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toMatch(
      /^environment\.encrypted: keys [0-9a-f]{16}, [0-9a-f]{16} \(converted from a legacy jet file\)\n$/,
    );
    const decrypted = await berth(['decrypt', 'environment.encrypted', '-', '--key-path', 'new.aes']);
    expect(decrypted).toMatchObject({ code: 0, stderr: '' });
    expect(decrypted.stdout.equals(await readFile(join(JET, 'environment.expected')))).toBe(true);
  });

  it('names a wrong key instead of printing garbage', async () => {
    await berth(['keygen', 'other.aes']);
    const result = await berth(['decrypt', 'environment.encrypted', 'out', '--key-path', 'other.aes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /berth: error: environment\.encrypted: wrong key for this legacy jet file: key [0-9a-f]{16} decrypts it to binary garbage, not text\n/,
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('berth rekey', () => {
  it('adds and removes keys of several files; a failure changes none', async () => {
    await berth(['keygen', 'old.aes']);
    await berth(['keygen', 'new.aes']);
    await writeFile(join(dir, 'a'), 'A');
    await berth(['encrypt', 'a', 'a.enc', '--key-path', 'old.aes']);
    await berth(['encrypt', 'a', 'b.enc', '--key-path', 'old.aes', '--armor']);
    const oldId = (await berth(['key-id', '--key-path', 'old.aes'])).stdout.toString().trim();
    const newId = (await berth(['key-id', '--key-path', 'new.aes'])).stdout.toString().trim();

    const rotated = await berth(['rekey', 'a.enc', 'b.enc', '--key-path', 'old.aes', '--add', 'new.aes', '--remove', oldId]);
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    expect(rotated.stdout.toString()).toBe(
      `a.enc: keys ${newId} (added ${newId}; removed ${oldId})\nb.enc: keys ${newId} (added ${newId}; removed ${oldId})\n`,
    );
    for (const name of ['a.enc', 'b.enc']) {
      expect((await berth(['decrypt', name, '-', '--key-path', 'new.aes'])).stdout.toString()).toBe('A');
      expect((await berth(['decrypt', name, '-', '--key-path', 'old.aes'])).stderr).toMatch(/wrong key/);
    }

    const a = await readFile(join(dir, 'a.enc'));
    await berth(['encrypt', 'a', 'c.enc', '--key-path', 'old.aes']);
    const failed = await berth(['rekey', 'a.enc', 'c.enc', '--key-path', 'new.aes', '--add', 'old.aes']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^berth: error: c\.enc: wrong key/);
    expect((await readFile(join(dir, 'a.enc'))).equals(a)).toBe(true);
    expect(await files()).toEqual(['a', 'a.enc', 'b.enc', 'c.enc', 'new.aes', 'old.aes']);
  });

  it('without --add or --remove checks the header and leaves the keys as they are', async () => {
    await berth(['keygen']);
    await berth(['encrypt', '-', 'x.enc'], { stdin: 'x' });
    const id = (await berth(['key-id'])).stdout.toString().trim();
    const result = await berth(['rekey', 'x.enc']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe(`x.enc: keys ${id} (unchanged)\n`);
  });
});

describe('env files: decrypt --env and exec', () => {
  const env = "# deploy settings\nTOKEN=s3cr3t value\nQUOTE=it's $HOME\n";
  beforeEach(async () => {
    await berth(['keygen']);
    await berth(['encrypt', '-', 'env.encrypted', '--armor'], { stdin: env });
  });

  it('decrypt --env prints export lines a shell can eval', async () => {
    const result = await berth(['decrypt', '--env', 'env.encrypted']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe(`export TOKEN='s3cr3t value'\nexport QUOTE='it'\\''s $HOME'\n`);
  });

  it('exec runs the command with the variables set and passes its exit status on, writing no file', async () => {
    const before = await files();
    const result = await berth(['exec', '--env-file', 'env.encrypted', '--', 'sh', '-c', 'printf "%s|%s" "$TOKEN" "$QUOTE"; exit 7']);
    expect(result.code).toBe(7);
    expect(result.stdout.toString()).toBe(`s3cr3t value|it's $HOME`);
    expect(result.stderr).toBe('');
    expect(await files()).toEqual(before);
    const ok = await berth(['exec', '--env-file', 'env.encrypted', '--', 'true']);
    expect(ok.code).toBe(0);
  });

  it('reads a binary encrypted env file from stdin', async () => {
    const binary = await berth(['encrypt', '-', '-'], { stdin: 'A=1\n' });
    const result = await berth(['decrypt', '--env', '-'], { stdin: binary.stdout });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe(`export A='1'\n`);
  });

  it('exec says when the command does not exist', async () => {
    const result = await berth(['exec', '--env-file', 'env.encrypted', '--', 'no-such-command-berth']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('berth: error: command not found: no-such-command-berth\n');
  });

  it('a bad line is reported by number, without its content', async () => {
    await berth(['encrypt', '-', 'bad.encrypted'], { stdin: 'OK=1\nnot a variable secret\n' });
    const result = await berth(['decrypt', '--env', 'bad.encrypted']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^berth: error: bad\.encrypted: line 2 is not NAME=VALUE/);
    expect(result.stderr).not.toContain('secret');
  });
});
