/**
 * @module
 * Runs `berth` in-process with a fresh HOME and captured streams: a CLI case is argv in, stdout,
 * stderr and exit code out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../../cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  home: string;
  env: Record<string, string>;
  run(...argv: string[]): Promise<CliResult>;
  cleanup(): Promise<void>;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function cliSandbox(extraEnv: Record<string, string> = {}): Promise<CliSandbox> {
  const home = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    ...extraEnv,
  };
  return {
    home,
    env,
    async run(...argv) {
      const stdout = sink();
      const stderr = sink();
      const stdin = new PassThrough();
      stdin.end();
      const code = await main(argv, { env, cwd: home, stdin, stdout: stdout.stream, stderr: stderr.stream });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
