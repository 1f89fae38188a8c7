/**
 * The protocol edge cases real clients hit, on the built helper and, where they define the
 * behaviour, on Debian's reference helpers (`docker-credential-pass`, `docker-credential-secretservice`)
 * fed the same bytes: a trailing newline after the server URL, `https://` and a path, `list` with a
 * stdin that never closes (docker-py), more than 1 MiB on one line, empty stdin, and ten `docker
 * login`s racing to store different secrets for one registry.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_FOUND_MESSAGE } from '../../core/errors.js';
import { clientHome, HELPER_JS, type ClientHome } from '../e2e/harness/clients.js';
import { createPassStore, PASS_COMPONENTS, type PassFixture } from '../e2e/harness/pass-store.js';
import { SECRET_SERVICE_COMPONENTS, startSecretService, type SessionBus } from '../e2e/harness/secret-service.js';
import { missingTools, requireTools, type Tool } from '../e2e/harness/tools.js';

const tools = (components: Record<string, string>): Tool[] =>
  Object.entries(components).map(([program, debianPackage]) => ({ program, debianPackage }));
const REFERENCE_TOOLS: Tool[] = [
  ...tools(PASS_COMPONENTS),
  ...tools(SECRET_SERVICE_COMPONENTS),
  { program: 'docker-credential-secretservice', debianPackage: 'golang-docker-credential-helpers' },
];

interface Outcome {
  stdout: string;
  stderr: string;
  /** null: still running at the deadline and killed. */
  code: number | null;
  ms: number;
}

interface Helper {
  name: string;
  /** Runs one action; `stdin: 'open'` leaves stdin a pipe that is never closed, as docker-py does. */
  run(action: string, stdin: string | 'open', deadlineMs?: number): Promise<Outcome>;
}

function helper(name: string, command: string[], env: Record<string, string>): Helper {
  return {
    name,
    run: (action, stdin, deadlineMs = 20_000) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(command[0]!, [...command.slice(1), action], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          child.stdin.destroy();
          resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, ms: performance.now() - started });
        });
        child.stdin.on('error', () => undefined); // a helper that stops reading early
        if (stdin !== 'open') child.stdin.end(stdin);
      }),
  };
}

const creds = (ServerURL: string, Username: string, Secret: string) => JSON.stringify({ ServerURL, Username, Secret });

let home: ClientHome;
let berth: Helper;
let pass: PassFixture | undefined;
let bus: SessionBus | undefined;
let references: Helper[] = [];

beforeAll(async () => {
  home = await clientHome();
  berth = helper('berth', [process.execPath, HELPER_JS], home.env);
  if (missingTools(REFERENCE_TOOLS) !== '') return;
  [pass, bus] = await Promise.all([createPassStore(), startSecretService()]);
  references = [
    helper('pass', ['docker-credential-pass'], { ...pass.env }),
    helper('secretservice', ['docker-credential-secretservice'], { PATH: process.env.PATH ?? '', ...bus.env }),
  ];
}, 120_000);
afterAll(async () => {
  await Promise.all([home.cleanup(), pass?.remove(), bus?.stop()]);
});

describe('protocol edge cases, berth beside the reference helpers', { timeout: 120_000 }, () => {
  it('get with a trailing newline: the same bytes from every helper', async (ctx) => {
    requireTools(REFERENCE_TOOLS, ctx.skip);
    for (const h of [berth, ...references]) {
      expect((await h.run('store', creds('nl.example.com', 'nina', 'nl-secret-1'))).code, h.name).toBe(0);
      const got = await h.run('get', 'nl.example.com\n');
      expect({ stdout: got.stdout, code: got.code }, h.name).toEqual({
        stdout: '{"ServerURL":"nl.example.com","Username":"nina","Secret":"nl-secret-1"}\n',
        code: 0,
      });
      // Windows line ends from a careless script: trimmed too.
      expect((await h.run('get', 'nl.example.com\r\n')).stdout, h.name).toContain('"Secret":"nl-secret-1"');
    }
  });

  it('get with https:// and a path: berth finds the registry, the references look the exact string up', async (ctx) => {
    requireTools(REFERENCE_TOOLS, ctx.skip);
    const asked = 'https://path.example.com/v2/team/app';
    for (const h of [berth, ...references]) {
      expect((await h.run('store', creds('path.example.com', 'pia', 'path-secret-2'))).code, h.name).toBe(0);
    }
    const ours = await berth.run('get', asked);
    expect({ stdout: ours.stdout, code: ours.code }).toEqual({
      stdout: `{"ServerURL":"${asked}","Username":"pia","Secret":"path-secret-2"}\n`,
      code: 0,
    });
    const [viaPass, viaSecretService] = await Promise.all(references.map((h) => h.run('get', asked)));
    // pass (0.6.4) answers a miss with empty credentials and exit 0; secretservice says not found.
    expect(viaPass!.stdout).toBe(`{"ServerURL":"${asked}","Username":"","Secret":""}\n`);
    expect({ stdout: viaSecretService!.stdout, code: viaSecretService!.code }).toEqual({ stdout: `${NOT_FOUND_MESSAGE}\n`, code: 1 });
    // erase by the same spelling removes berth's entry.
    expect((await berth.run('erase', `${asked}\n`)).code).toBe(0);
    expect((await berth.run('get', 'path.example.com')).stdout).toBe(`${NOT_FOUND_MESSAGE}\n`);
  });

  it('list with stdin never closed answers and exits, as the references do', async (ctx) => {
    requireTools(REFERENCE_TOOLS, ctx.skip);
    for (const h of [berth, ...references]) {
      const listed = await h.run('list', 'open', 15_000);
      expect(listed.code, `${h.name} was killed at the deadline: it waited for stdin`).toBe(0);
      expect(JSON.parse(listed.stdout), h.name).toMatchObject({ 'nl.example.com': 'nina' });
      expect(listed.stdout.endsWith('}\n'), h.name).toBe(true);
    }
  });

  it('empty stdin: one line on stdout and exit 1, never empty credentials', async (ctx) => {
    requireTools(REFERENCE_TOOLS, ctx.skip);
    for (const action of ['get', 'erase']) {
      for (const h of [berth, ...references]) {
        const result = await h.run(action, '');
        expect({ stdout: result.stdout, code: result.code }, `${h.name} ${action}`).toEqual({
          stdout: 'no credentials server URL\n',
          code: 1,
        });
      }
    }
    const stored = await berth.run('store', '');
    expect(stored).toMatchObject({ stdout: 'invalid credentials JSON on stdin: the input is empty\n', code: 1 });
    for (const h of references) {
      const theirs = await h.run('store', '');
      expect(theirs.code, h.name).toBe(1);
      expect(theirs.stdout.split('\n').filter(Boolean), h.name).toHaveLength(1);
    }
    const listed = await berth.run('list', '');
    expect(listed.code).toBe(0);
  });

  it('more than 1 MiB on one line: one short line and exit 1, at once, where the references stop at 64 KiB', async (ctx) => {
    requireTools(REFERENCE_TOOLS, ctx.skip);
    const hugeURL = `huge.example.com/${'p'.repeat(2 * 1024 * 1024)}`;
    const hugeStore = creds('huge.example.com', 'hugo', 's'.repeat(2 * 1024 * 1024));
    for (const [action, input] of [
      ['get', hugeURL],
      ['erase', hugeURL],
      ['store', hugeStore],
    ] as const) {
      const ours = await berth.run(action, input);
      expect({ stdout: ours.stdout, code: ours.code }, action).toEqual({
        stdout: 'input too large: more than 1048576 bytes on stdin\n',
        code: 1,
      });
      expect(ours.stderr, action).toBe('');
      expect(ours.ms, `${action} took ${Math.round(ours.ms)} ms`).toBeLessThan(10_000);
    }
    // What the references do with it: Go's bufio.Scanner gives up at 64 KiB.
    for (const h of references) {
      const theirs = await h.run('get', hugeURL);
      expect({ stdout: theirs.stdout, code: theirs.code }, h.name).toEqual({ stdout: 'bufio.Scanner: token too long\n', code: 1 });
    }
    // 900 KiB (a large identity token) is fine for berth, too much for the references.
    const big = 't'.repeat(900 * 1024);
    expect((await berth.run('store', creds('big.example.com', '<token>', big))).code).toBe(0);
    expect(JSON.parse((await berth.run('get', 'big.example.com')).stdout).Secret).toBe(big);
    for (const h of references) expect((await h.run('store', creds('big.example.com', '<token>', big))).code, h.name).toBe(1);
    expect((await berth.run('get', 'huge.example.com')).stdout).toBe(`${NOT_FOUND_MESSAGE}\n`);
  });
});

describe('ten docker logins racing for one registry', { timeout: 180_000 }, () => {
  const STORES = ['file', 'keychain', 'pass'] as const;
  for (const store of STORES) {
    it(`${store} store: every store succeeds, one whole login wins, nothing is corrupted or left behind`, async (ctx) => {
      if (store !== 'file') requireTools(REFERENCE_TOOLS, ctx.skip);
      const env = {
        ...home.env,
        BERTH_STORE: store,
        ...(store === 'keychain' ? { DBUS_SESSION_BUS_ADDRESS: bus!.address } : {}),
        ...(store === 'pass' ? { GNUPGHOME: pass!.env.GNUPGHOME!, PASSWORD_STORE_DIR: pass!.env.PASSWORD_STORE_DIR! } : {}),
      };
      const h = helper(`berth (${store})`, [process.execPath, HELPER_JS], env);
      const registry = `race-${store}.example.com`;
      const secrets = Array.from({ length: 10 }, (_, i) => `race-secret-${i}-${'x'.repeat(i * 97)}`);
      const results = await Promise.all(secrets.map((secret) => h.run('store', creds(registry, `user${secret.length}`, secret), 90_000)));
      for (const result of results) expect({ stdout: result.stdout, code: result.code }).toEqual({ stdout: '', code: 0 });

      const got = await h.run('get', registry);
      expect(got.code, got.stdout).toBe(0);
      const entry = JSON.parse(got.stdout) as { Username: string; Secret: string };
      expect(secrets).toContain(entry.Secret);
      expect(entry.Username).toBe(`user${entry.Secret.length}`); // user name and secret from the same login
      const listed = JSON.parse((await h.run('list', '')).stdout) as Record<string, string>;
      expect(Object.keys(listed).filter((key) => key.startsWith('race-'))).toEqual([registry]);
      // A later login replaces it: the store still reads and writes.
      expect((await h.run('store', creds(registry, 'after', 'after-race'))).code).toBe(0);
      expect(JSON.parse((await h.run('get', registry)).stdout).Secret).toBe('after-race');
      expect((await h.run('erase', registry)).code).toBe(0);
      if (store === 'file') {
        // No temporary or lock file left next to the store.
        const dataDir = join(home.env.XDG_DATA_HOME!, 'berth');
        expect((await readdir(dataDir, { recursive: true })).filter((name) => /\.tmp|\.lock|~$/.test(String(name)))).toEqual([]);
      }
    });
  }
});
