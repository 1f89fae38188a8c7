/**
 * @module
 * Runs `berth` in-process with a fresh temporary HOME/XDG tree, capturing stdout, stderr and the
 * exit code, so CLI tests read like scripts of command, stdin, stdout, stderr, exit code.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../cli/program.js';
import type { Env } from '../../core/paths.js';
import { shimExec } from '../e2e/harness/build.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface TempHome {
  dir: string;
  env: Env;
  berth(args: string[], stdin?: string): Promise<CliResult>;
  cleanup(): Promise<void>;
}

/**
 * A fresh home. `helperOnPath` puts a `docker-credential-berth` for the built helper first on PATH,
 * as an installed berth would be.
 */
export async function tempHome(extra: Env = {}, { helperOnPath = false } = {}): Promise<TempHome> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const basePath = extra.PATH ?? process.env.PATH ?? '';
  let path = basePath;
  if (helperOnPath) {
    await mkdir(join(dir, 'bin'));
    const shim = `#!/bin/sh\n${shimExec('helper')}\n`;
    await writeFile(join(dir, 'bin/docker-credential-berth'), shim, { mode: 0o755 });
    path = `${join(dir, 'bin')}:${basePath}`;
  }
  const env: Env = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_DATA_HOME: join(dir, '.local/share'),
    XDG_CACHE_HOME: join(dir, '.cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    ...extra,
    PATH: path,
  };
  return {
    dir,
    env,
    async berth(args, stdin = '') {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (chunk: Buffer) => out.push(chunk));
      stderr.on('data', (chunk: Buffer) => err.push(chunk));
      const code = await main(args, { env, cwd: dir, stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr });
      return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
