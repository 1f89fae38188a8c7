/**
 * @module
 * A throwaway `pass` password store for tests: a temporary GNUPGHOME with a fresh passphrase-less
 * ed25519/cv25519 key, and a temporary PASSWORD_STORE_DIR initialised for it. `remove()` stops the
 * gpg-agent the key used (`gpgconf --kill gpg-agent`) and deletes both directories.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOOLS, type Tool } from './tools.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

const run = promisify(execFile);

export const PASS_TOOLS: Tool[] = [TOOLS.pass, TOOLS.gpg, TOOLS.gpgconf, TOOLS.dockerCredentialPass];

export interface PassFixture {
  dir: string;
  storeDir: string;
  fingerprint: string;
  /** GNUPGHOME and PASSWORD_STORE_DIR for `pass`, gpg and any helper. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

const KEY_PARAMETERS = `%no-protection
Key-Type: eddsa
Key-Curve: ed25519
Key-Usage: sign
Subkey-Type: ecdh
Subkey-Curve: cv25519
Subkey-Usage: encrypt
Name-Real: berth test
Name-Email: berth-test@example.invalid
Expire-Date: 0
%commit
`;

/** A GPG key and, unless `initialise` is false, a password store initialised for it. */
export async function createPassStore({ initialise = true } = {}): Promise<PassFixture> {
  // Short path: gpg-agent's socket lives in GNUPGHOME and socket paths are limited to ~107 bytes.
  const dir = await fixtureDir('berth-pass-');
  const gnupgHome = join(dir, 'gnupg');
  const storeDir = join(dir, 'store');
  await mkdir(gnupgHome, { mode: 0o700 });
  const env = { PATH: process.env.PATH ?? '', HOME: dir, GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: storeDir };
  const remove = async () => {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    await removeDir(dir);
  };
  try {
    await writeFile(join(dir, 'key-parameters'), KEY_PARAMETERS);
    await run('gpg', ['--batch', '--gen-key', join(dir, 'key-parameters')], { env, timeout: 120_000 });
    const { stdout } = await run('gpg', ['--list-keys', '--with-colons'], { env });
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
    if (!fingerprint) throw new Error(`no key fingerprint in gpg output: ${stdout}`);
    if (initialise) await run('pass', ['init', fingerprint], { env, timeout: 60_000 });
    return { dir, storeDir, fingerprint, env, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Runs Debian's docker-credential-pass (the peer berth must stay compatible with). */
export async function dockerCredentialPass(fixture: PassFixture, action: string, input = ''): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('docker-credential-pass', [action], { env: fixture.env, timeout: 60_000 }, (err, stdout) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout });
    });
    child.stdin?.end(input);
  });
}
