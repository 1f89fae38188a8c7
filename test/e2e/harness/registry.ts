/**
 * @module
 * A real registry for end-to-end tests: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with htpasswd (bcrypt) auth, its own storage directory and config file. `start`
 * resolves once `/v2/` answers 401; `stop` ends the process and removes the directory.
 * With `tokenAuth` the registry runs in `auth: token` mode behind a token server
 * (./registry-token-server.ts), as Docker Hub, GHCR and Quay do: `/v2/` answers with a Bearer
 * challenge, and the token server checks the user's Basic credentials before it signs a JWT.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTokenServer } from './registry-token-server.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

export interface RegistryUser {
  username: string;
  password: string;
}

export interface Registry {
  /** `127.0.0.1:PORT`, the name clients use. */
  host: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function htpasswdLine({ username, password }: RegistryUser): Promise<string> {
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', username, password]);
  return stdout.trim();
}

function htpasswdAuth(dir: string): string[] {
  return ['auth:', '  htpasswd:', '    realm: berth-e2e', `    path: ${join(dir, 'htpasswd')}`];
}

function configYaml(dir: string, port: number, auth: string[]): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: berth-e2e-not-a-secret',
    ...auth,
    '',
  ].join('\n');
}

/** Polls until `/v2/` answers 401 (auth on, server up) or the process exits. */
async function waitReady(host: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    const status = await fetch(`http://${host}/v2/`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 401) return;
    if (status !== 0) throw new Error(`docker-registry answered /v2/ with ${status}, expected 401`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry not ready after ${READY_TIMEOUT_MS / 1000}s: ${log()}`);
}

export async function startRegistry(users: readonly RegistryUser[], options: { tokenAuth?: boolean } = {}): Promise<Registry> {
  const dir = await fixtureDir('berth-registry-');
  const tokens = options.tokenAuth ? await startTokenServer(users, dir) : undefined;
  const auth = tokens ? tokens.authYaml : htpasswdAuth(dir);
  if (!tokens) await writeFile(join(dir, 'htpasswd'), `${(await Promise.all(users.map(htpasswdLine))).join('\n')}\n`);
  // A port from the kernel can be taken by someone else before the registry binds it: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(join(dir, 'config.yml'), configYaml(dir, port, auth));
    const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const host = `127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    };
    try {
      await waitReady(host, child, () => stderr);
      return {
        host,
        async stop() {
          await Promise.all([stop(), tokens?.close()]);
          await removeDir(dir);
        },
      };
    } catch (err) {
      await stop();
      if (attempt >= 3 || !/address already in use/.test(stderr)) {
        await tokens?.close();
        await removeDir(dir);
        throw err;
      }
    }
  }
}
