// Script-style cases for `berth keygen|key-id|encrypt|decrypt|rekey|exec`: each runs the built
// berth of the selected build (test/e2e/harness/build.ts) in a fresh directory and checks stdout, stderr, the exit code and the files left.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, lstat, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { argvFor } from '../../e2e/harness/build.js';
import { cliHome, type CliHome, type RunOptions } from '../../e2e/harness/cli.js';
import { HOME_DIRS } from '../../fakes/temp.js';

const JET = join(import.meta.dirname, '../../vectors/jet-legacy');

let dir: string;
let home: CliHome;
const berth = (args: string[], options?: RunOptions) => home.berthProcess(args, options);

/** The files in the test directory, without the HOME dirs: proof that nothing was left behind. */
async function files(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !HOME_DIRS.includes(name)).sort();
}

beforeEach(async () => {
  home = await cliHome({}, { prefix: 'berth-cli-encrypt-' });
  dir = home.dir;
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

  it('writes a file of 16 MiB or more in 1 MiB chunks (header byte 12 = 20), smaller ones, stdin and armor in 64 KiB; each decrypts', async () => {
    const large = randomBytes((16 << 20) + 3);
    await writeFile(join(dir, 'large'), large);
    await writeFile(join(dir, 'small'), large.subarray(0, (16 << 20) - 1));
    for (const [input, output] of [
      ['large', 'large.enc'],
      ['small', 'small.enc'],
    ]) {
      expect(await berth(['encrypt', input!, output!])).toMatchObject({ code: 0, stderr: '' });
    }
    const piped = await berth(['encrypt', '-', '-'], { stdin: large });
    expect(await berth(['encrypt', '--armor', 'large', 'large.asc'])).toMatchObject({ code: 0, stderr: '' });
    const armoredHeader = Buffer.from((await readFile(join(dir, 'large.asc'), 'utf8')).split('\n').slice(1, 2).join(''), 'base64');
    expect(armoredHeader[12]).toBe(16);
    expect((await readFile(join(dir, 'large.enc')))[12]).toBe(20);
    expect((await readFile(join(dir, 'small.enc')))[12]).toBe(16);
    expect(piped.stdout[12]).toBe(16);
    expect(await berth(['decrypt', 'large.enc', 'large.out'])).toMatchObject({ code: 0, stderr: '' });
    expect((await readFile(join(dir, 'large.out'))).equals(large)).toBe(true);
    const back = await berth(['decrypt', '-', '-'], { stdin: await readFile(join(dir, 'large.enc')) });
    expect(back).toMatchObject({ code: 0, stderr: '' });
    expect(back.stdout.equals(large)).toBe(true);
  });

  it('encrypts for several keys; each opens the file; BERTH_AES_KEY works', async () => {
    await berth(['keygen', 'ci.aes']);
    await writeFile(join(dir, 'env'), 'A=1\n');
    expect((await berth(['encrypt', 'env', 'env.enc', '--key-path', 'berth.aes', '--key-path', 'ci.aes'])).code).toBe(0);
    const ciKey = (await readFile(join(dir, 'ci.aes'), 'utf8')).trim();
    await rm(join(dir, 'berth.aes'));
    expect((await berth(['decrypt', 'env.enc', '-'], { env: { BERTH_AES_KEY: ciKey } })).stdout.toString()).toBe('A=1\n');
  });

  it('with several keys found, uses the one the file names (decrypt, rekey, exec)', async () => {
    await berth(['keygen', 'codeship.aes']);
    const codeshipId = (await berth(['key-id', '--key-path', 'codeship.aes'])).stdout.toString().trim();
    await writeFile(join(dir, 'env'), 'A=1\n');
    expect((await berth(['encrypt', 'env', 'env.enc', '--key-path', 'codeship.aes'])).code).toBe(0);
    expect(await berth(['decrypt', 'env.enc', '-'])).toMatchObject({ code: 0, stderr: '' });
    expect((await berth(['decrypt', 'env.enc', '-'])).stdout.toString()).toBe('A=1\n');
    const other = await berth(['keygen', 'other.aes']);
    expect(other.code).toBe(0);
    expect((await berth(['decrypt', 'env.enc', '-', '--key-path', 'other.aes'])).stdout.toString()).toBe('A=1\n');
    const exec = await berth(['exec', '--env-file', 'env.enc', '--', 'sh', '-c', 'printf %s "$A"']);
    expect(exec).toMatchObject({ code: 0, stderr: '' });
    expect(exec.stdout.toString()).toBe('1');
    const rekeyed = await berth(['rekey', 'env.enc']);
    expect(rekeyed).toMatchObject({ code: 0, stderr: '' });
    expect(rekeyed.stdout.toString()).toBe(`env.enc: keys ${codeshipId} (unchanged)\n`);
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
        'wrong key, naming every key tried',
        async () => {
          for (const args of [
            ['keygen', 'other.aes'],
            ['keygen', '--force'],
            ['keygen', 'codeship.aes'],
          ])
            await berth(args);
          return ['decrypt', 'sample.enc', 'out', '--key-path', 'other.aes'];
        },
        /^berth: error: sample\.enc: wrong key: the file is encrypted for [0-9a-f]{16}; your keys are [0-9a-f]{16}, [0-9a-f]{16}, [0-9a-f]{16}\n/,
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
        expect(
          (await files()).filter((name) => !before.includes(name) && !['bad.aes', 'other.aes', 'codeship.aes', 'afile'].includes(name)),
        ).toEqual([]);
      });
    }
  });
});

/** The path of the first file under the test directory that process `pid` holds open, once it does. */
async function outputOpenedBy(pid: number): Promise<string> {
  for (let tries = 0; tries < 400; tries++) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (link.startsWith(dir) && !link.endsWith('.enc')) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`process ${pid} never opened an output under ${dir}`);
}

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
    // Wait (without a fixed sleep) until the output is open, then interrupt.
    await outputOpenedBy(child.pid!);
    child.kill('SIGINT');
    // If berth is waiting for input it notices the interrupt with the next piece; it may be gone.
    child.stdin.on('error', () => undefined);
    child.stdin.end(randomBytes(1 << 20));
    expect(await exited).toBe(130);
    expect(Buffer.concat(stderr).toString()).toBe('berth: error: interrupted; no output was written\n');
    expect(await files()).toEqual(['berth.aes']);
  });
});

describe('outputs that are not regular files, and kills', () => {
  beforeEach(async () => {
    await berth(['keygen']);
  });

  it('decrypt to /dev/stdout writes through the pipe and leaves /dev/stdout alone', async () => {
    await berth(['encrypt', '-', 'x.enc'], { stdin: 'through the pipe' });
    const result = await berth(['decrypt', 'x.enc', '/dev/stdout']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe('through the pipe');
    expect((await lstat('/dev/stdout')).isSymbolicLink()).toBe(true);
    expect(await files()).toEqual(['berth.aes', 'x.enc']);
  });

  it('decrypt from a named pipe (FIFO) gets every byte its writer sends', async () => {
    await berth(['encrypt', '-', 'x.enc'], { stdin: 'through a fifo' });
    const fifo = join(dir, 'in.fifo');
    await new Promise((resolve, reject) => spawn('mkfifo', [fifo]).on('exit', resolve).on('error', reject));
    // The writer blocks until the FIFO is opened for reading, then writes once.
    const writer = spawn('sh', ['-c', 'cat x.enc > in.fifo'], { cwd: dir });
    const wrote = new Promise((resolve) => writer.once('exit', resolve));
    const result = await berth(['decrypt', 'in.fifo', 'out']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('through a fifo');
    expect(await wrote).toBe(0);
  });

  it('decrypt to /dev/null leaves it a device', async () => {
    await berth(['encrypt', '-', 'x.enc'], { stdin: 'gone' });
    expect(await berth(['decrypt', 'x.enc', '/dev/null'])).toMatchObject({ code: 0, stderr: '' });
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('rekey through a symlink keeps the link and rewrites the real file, which the removed key no longer opens', async () => {
    await berth(['keygen', 'new.aes']);
    await berth(['encrypt', '-', 'real.enc'], { stdin: 'S' });
    await symlink('real.enc', join(dir, 'link.enc'));
    const oldId = (await berth(['key-id'])).stdout.toString().trim();
    const rekeyed = await berth(['rekey', 'link.enc', '--key-path', 'berth.aes', '--add', 'new.aes', '--remove', oldId]);
    expect(rekeyed).toMatchObject({ code: 0, stderr: '' });
    expect((await lstat(join(dir, 'link.enc'))).isSymbolicLink()).toBe(true);
    expect((await berth(['decrypt', 'real.enc', '-', '--key-path', 'new.aes'])).stdout.toString()).toBe('S');
    await rm(join(dir, 'berth.aes'));
    await writeFile(join(dir, 'old.aes'), '');
    expect((await berth(['decrypt', 'real.enc', '-', '--key-path', 'new.aes'])).code).toBe(0);
    expect(await files()).toEqual(['link.enc', 'new.aes', 'old.aes', 'real.enc']);
  });

  it('decrypt to a pipe holds the plaintext until the last chunk verifies', async () => {
    await writeFile(join(dir, 'big'), randomBytes(4 * 65536 + 10));
    await berth(['encrypt', 'big', 'big.enc']);
    await flipByte('big.enc', -1);
    const piped = await berth(['decrypt', 'big.enc', '-']);
    expect(piped.code).toBe(1);
    expect(piped.stderr).toMatch(/^berth: error: big\.enc: data corrupted or tampered: chunk 4 failed/);
    expect(piped.stdout.length).toBe(0);
    const through = await berth(['decrypt', 'big.enc', '/dev/stdout']);
    expect(through.code).toBe(1);
    expect(through.stdout.length).toBe(0);
  });

  it('killed mid-write, decrypt leaves no file (the output has no name until it is complete)', async () => {
    await writeFile(join(dir, 'plain'), randomBytes(1 << 20));
    await berth(['encrypt', 'plain', 'plain.enc']);
    const encrypted = await readFile(join(dir, 'plain.enc'));
    const child = spawn(...argvFor('berth', ['decrypt', '-', 'out']), { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
    child.stdin.on('error', () => undefined); // killed before it read all of its input: EPIPE
    child.stdin.write(encrypted.subarray(0, 600_000));
    // Wait until the output is open (it has no name: /proc shows `dir/#inode (deleted)`), then kill.
    expect(await outputOpenedBy(child.pid!)).toMatch(/\/#\d+ \(deleted\)$/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await files()).toEqual(['berth.aes', 'plain', 'plain.enc']);
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

  it('a --key-path that is not there: one line naming it, as the plain and the full form say it', async () => {
    await writeFile(join(dir, 'plain.txt'), 'secret');
    expect((await berth(['encrypt', 'plain.txt', 'plain.berth'])).code).toBe(0);
    for (const argv of [
      ['decrypt', 'plain.berth', 'out.txt', '--key-path', 'missing.aes'],
      ['decrypt', '--env', 'plain.berth', '--key-path', 'missing.aes'],
    ]) {
      const result = await berth(argv);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`berth: error: cannot read key file ${join(dir, 'missing.aes')}: no such file\n`);
    }
    expect(await files()).not.toContain('out.txt');
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

  it('exec keeps BERTH_AES_KEY from the command', async () => {
    const key = (await readFile(join(dir, 'berth.aes'), 'utf8')).trim();
    await rm(join(dir, 'berth.aes'));
    const result = await berth(
      ['exec', '--env-file', 'env.encrypted', '--', 'sh', '-c', 'printf "%s|%s" "$TOKEN" "$(printenv BERTH_AES_KEY || echo unset)"'],
      {
        env: { BERTH_AES_KEY: key },
      },
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe('s3cr3t value|unset');
  });

  it('exec says when the command does not exist (127) or cannot be run (126), as a shell does', async () => {
    const result = await berth(['exec', '--env-file', 'env.encrypted', '--', 'no-such-command-berth']);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe('berth: error: command not found: no-such-command-berth\n');
    await writeFile(join(dir, 'not-executable.sh'), '#!/bin/sh\n', { mode: 0o644 });
    const cannot = await berth(['exec', '--env-file', 'env.encrypted', '--', './not-executable.sh']);
    expect(cannot.code).toBe(126);
    expect(cannot.stderr).toMatch(/^berth: error: cannot run \.\/not-executable\.sh: .*\n$/);
  });

  it('exec exits 128 + the number of the signal that ended the command, whichever signal', async () => {
    for (const [signal, code] of [
      ['TERM', 143],
      ['USR1', 138],
      ['PIPE', 141],
    ] as const) {
      const result = await berth(['exec', '--env-file', 'env.encrypted', '--', 'sh', '-c', `kill -${signal} $$`]);
      expect(result.code, signal).toBe(code);
    }
  });

  it('exec -f - reads the env file from stdin (Node 20 reads an --env-file option itself)', async () => {
    const result = await berth(['exec', '-f', '-', '--', 'sh', '-c', 'printf %s "$TOKEN"'], {
      stdin: await readFile(join(dir, 'env.encrypted')),
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe('s3cr3t value');
  });

  it('exec: a Ctrl-C at the terminal reaches the command once, not again from berth', async () => {
    // `script` gives berth a terminal; ^C typed there is the terminal's SIGINT to its foreground group
    // a command that counts every interrupt it is given (a shell's trap runs once for two close ones)
    const child = `let n = 0; process.on('SIGINT', () => n++); console.log('ready'); setTimeout(() => console.log('interrupts=' + n), 1500);`;
    const [file, args] = argvFor('berth', ['exec', '-f', 'env.encrypted', '--', process.execPath, '-e', child]);
    const quoted = [file, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
    const run = spawn('script', ['-qec', quoted, '/dev/null'], { cwd: dir, env: home.env as NodeJS.ProcessEnv });
    let output = '';
    let typed = false;
    run.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && output.includes('ready')) {
        typed = true;
        run.stdin.write('\x03');
      }
    });
    await new Promise((resolve) => run.on('close', resolve));
    expect(typed).toBe(true);
    expect(output).toMatch(/interrupts=1\r?\n/);
  });

  it('a bad line is reported by number, without its content', async () => {
    await berth(['encrypt', '-', 'bad.encrypted'], { stdin: 'OK=1\nnot a variable secret\n' });
    const result = await berth(['decrypt', '--env', 'bad.encrypted']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^berth: error: bad\.encrypted: line 2 is not NAME=VALUE/);
    expect(result.stderr).not.toContain('secret');
  });
});
