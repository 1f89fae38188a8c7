/**
 * The BUILT `docker-credential-berth` (the Node bundle or the standalone executable: BERTH_BUILD), run as clients run it, against the credential-helper
 * protocol (DESIGN §1): a script of argv, stdin, expected stdout bytes, stderr and exit code, run in
 * order in one fresh home with the default (file) store, so later steps see earlier ones.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_FOUND_MESSAGE } from '../../core/errors.js';
import { clientHome, spawnCollect, type ClientHome } from './harness/clients.js';
import { argvFor, berthCommand, executable } from './harness/build.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Step {
  name: string;
  args: string[];
  stdin?: string;
  stdout: string | RegExp;
  /** Default ''. */
  stderr?: string | RegExp;
  /** Default 0. */
  exit?: number;
}

const NOT_FOUND = `${NOT_FOUND_MESSAGE}\n`;
const USAGE = 'Usage: docker-credential-berth <store|get|erase|list|version>\n';
const creds = (ServerURL: string, Username: string, Secret: string) => JSON.stringify({ ServerURL, Username, Secret });
const BIG_SECRET = 'b'.repeat(200 * 1024);

const SCRIPT: Step[] = [
  { name: 'version', args: ['version'], stdout: `docker-credential-berth berth ${version}\n` },
  { name: 'list on an empty store', args: ['list'], stdout: '{}\n' },
  { name: 'get before any store', args: ['get'], stdin: 'ghcr.io', stdout: NOT_FOUND, exit: 1 },
  { name: 'erase of an absent entry', args: ['erase'], stdin: 'ghcr.io', stdout: '' },

  { name: 'store https://host', args: ['store'], stdin: creds('https://ghcr.io', 'octocat', 'ghp_s3cret1'), stdout: '' },
  {
    name: 'get as bare host echoes the ServerURL as asked',
    args: ['get'],
    stdin: 'ghcr.io',
    stdout: '{"ServerURL":"ghcr.io","Username":"octocat","Secret":"ghp_s3cret1"}\n',
  },
  {
    name: 'get as https://host/ with a trailing newline',
    args: ['get'],
    stdin: 'https://ghcr.io/\n',
    stdout: '{"ServerURL":"https://ghcr.io/","Username":"octocat","Secret":"ghp_s3cret1"}\n',
  },

  {
    name: "store docker login's Hub key",
    args: ['store'],
    stdin: creds('https://index.docker.io/v1/', 'hubuser', 'hub_s3cret2'),
    stdout: '',
  },
  ...['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'].map(
    (alias): Step => ({
      name: `get Hub as ${alias}`,
      args: ['get'],
      stdin: alias,
      stdout: `{"ServerURL":"${alias}","Username":"hubuser","Secret":"hub_s3cret2"}\n`,
    }),
  ),

  // docker's web-based Hub login stores its OAuth tokens under keys of their own, then the Hub login
  ...(['access-token', 'refresh-token'] as const).map(
    (token): Step => ({
      name: `store docker's Hub ${token} key`,
      args: ['store'],
      stdin: creds(`https://index.docker.io/v1/${token}`, 'hubuser', `${token}-value`),
      stdout: '',
    }),
  ),
  {
    name: 'the Hub login is not a token',
    args: ['get'],
    stdin: 'https://index.docker.io/v1/',
    stdout: '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hub_s3cret2"}\n',
  },
  {
    name: 'the refresh token is its own entry, as docker logout reads it',
    args: ['get'],
    stdin: 'https://index.docker.io/v1/refresh-token',
    stdout: '{"ServerURL":"https://index.docker.io/v1/refresh-token","Username":"hubuser","Secret":"refresh-token-value"}\n',
  },
  ...(['access-token', 'refresh-token'] as const).map(
    (token): Step => ({ name: `erase the ${token}`, args: ['erase'], stdin: `https://index.docker.io/v1/${token}`, stdout: '' }),
  ),
  {
    name: 'and the Hub login stays',
    args: ['get'],
    stdin: 'docker.io',
    stdout: '{"ServerURL":"docker.io","Username":"hubuser","Secret":"hub_s3cret2"}\n',
  },

  { name: 'store an identity token', args: ['store'], stdin: creds('myacr.azurecr.io', '<token>', 'eyJ0b2tlbg.refresh'), stdout: '' },
  {
    name: 'get the identity token back',
    args: ['get'],
    stdin: 'myacr.azurecr.io',
    stdout: '{"ServerURL":"myacr.azurecr.io","Username":"<token>","Secret":"eyJ0b2tlbg.refresh"}\n',
  },

  {
    name: 'list: one key per registry, user names only',
    args: ['list'],
    stdout:
      /^\{(?=.*"ghcr\.io":"octocat")(?=.*"https:\/\/index\.docker\.io\/v1\/":"hubuser")(?=.*"myacr\.azurecr\.io":"<token>")[^\n]*\}\n$/,
  },

  { name: 'a 200 KiB secret is stored', args: ['store'], stdin: creds('big.example', 'u', BIG_SECRET), stdout: '' },
  {
    name: 'and read back whole',
    args: ['get'],
    stdin: 'big.example',
    stdout: `{"ServerURL":"big.example","Username":"u","Secret":"${BIG_SECRET}"}\n`,
  },
  {
    name: 'more than 1 MiB is refused with one line',
    args: ['store'],
    stdin: creds('huge.example', 'u', 'h'.repeat(1024 * 1024 + 1)),
    stdout: 'input too large: more than 1048576 bytes on stdin\n',
    exit: 1,
  },
  { name: 'and nothing was stored', args: ['get'], stdin: 'huge.example', stdout: NOT_FOUND, exit: 1 },

  { name: 'store with an empty ServerURL', args: ['store'], stdin: creds('', 'u', 'p'), stdout: 'no credentials server URL\n', exit: 1 },
  {
    name: 'store with an empty Username',
    args: ['store'],
    stdin: creds('x.example', '', 'p'),
    stdout: 'no credentials username\n',
    exit: 1,
  },
  {
    name: 'store with an empty Secret (never exit 0 with empty credentials)',
    args: ['store'],
    stdin: creds('x.example', 'u', ''),
    stdout: 'no credentials secret\n',
    exit: 1,
  },
  { name: 'store with empty input', args: ['store'], stdin: '', stdout: /^invalid credentials JSON on stdin: [^\n]+\n$/, exit: 1 },
  {
    name: 'store with malformed JSON',
    args: ['store'],
    stdin: '{"ServerURL":',
    stdout: /^invalid credentials JSON on stdin: [^\n]+\n$/,
    exit: 1,
  },
  { name: 'get with empty input', args: ['get'], stdin: '', stdout: 'no credentials server URL\n', exit: 1 },
  { name: 'erase with blank input', args: ['erase'], stdin: ' \n', stdout: 'no credentials server URL\n', exit: 1 },

  { name: 'erase by another spelling', args: ['erase'], stdin: 'docker.io', stdout: '' },
  { name: 'Hub is gone under every alias', args: ['get'], stdin: 'https://index.docker.io/v1/', stdout: NOT_FOUND, exit: 1 },
  {
    name: 'other entries stay',
    args: ['get'],
    stdin: 'ghcr.io',
    stdout: '{"ServerURL":"ghcr.io","Username":"octocat","Secret":"ghp_s3cret1"}\n',
  },

  // A client sends credentials to the host its URL parser reads, which ends at the first `?` or `#`:
  // what follows an `@` after one is never the registry, so ghcr.io's entry goes to nobody else.
  ...['evil.example?@ghcr.io', 'evil.example#@ghcr.io', 'https://evil.example?@ghcr.io/v2/'].map(
    (serverURL): Step => ({ name: `get ${serverURL} is not ghcr.io`, args: ['get'], stdin: serverURL, stdout: NOT_FOUND, exit: 1 }),
  ),
  {
    name: 'a backslash in the host names no registry (parsers read it differently)',
    args: ['get'],
    stdin: 'evil.example\\@ghcr.io',
    stdout: 'no credentials server URL\n',
    exit: 1,
  },
  { name: 'store under such a URL', args: ['store'], stdin: creds('evil.example?@ghcr.io', 'mallory', 'not-octocat'), stdout: '' },
  {
    name: "is the other host's entry, and ghcr.io's is untouched",
    args: ['get'],
    stdin: 'https://user@ghcr.io',
    stdout: '{"ServerURL":"https://user@ghcr.io","Username":"octocat","Secret":"ghp_s3cret1"}\n',
  },
  {
    name: 'the other host got it',
    args: ['get'],
    stdin: 'evil.example',
    stdout: '{"ServerURL":"evil.example","Username":"mallory","Secret":"not-octocat"}\n',
  },

  { name: 'no arguments', args: [], stdout: USAGE, exit: 1 },
  { name: 'unknown action', args: ['fetch'], stdout: USAGE, exit: 1 },
  { name: 'too many arguments', args: ['get', 'ghcr.io'], stdin: 'ghcr.io', stdout: USAGE, exit: 1 },
];

let home: ClientHome;
beforeAll(async () => {
  berthCommand('helper'); // throws when not built
  home = await clientHome();
});
afterAll(() => home.cleanup());

describe('docker-credential-berth, built, as a child process', () => {
  for (const step of SCRIPT) {
    it(`${step.name}: ${step.args.join(' ') || '(no args)'}`, async () => {
      const result = await spawnCollect(...argvFor('helper', step.args), home.env, { stdin: step.stdin ?? '' });
      const expected = { stdout: step.stdout, stderr: step.stderr ?? '', code: step.exit ?? 0 };
      const actual = { stdout: result.stdout, stderr: result.stderr, code: result.code };
      if (typeof expected.stdout === 'string' && typeof expected.stderr === 'string') {
        expect(actual).toEqual(expected);
      } else {
        expect(actual.code).toBe(expected.code);
        expect(actual.stdout).toMatch(expected.stdout);
        expect(actual.stderr).toMatch(expected.stderr);
      }
    });
  }

  it('runs as an installed file is run (its own #! line, or the executable through its symlink)', async () => {
    const result = await spawnCollect(executable('helper'), ['version'], home.env);
    expect(result).toMatchObject({ stdout: `docker-credential-berth berth ${version}\n`, stderr: '', code: 0 });
  });

  it('list with a stdin that never closes answers and exits', async () => {
    const child = spawn(...argvFor('helper', ['list']), { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    child.stdin.destroy();
    expect(code).toBe(0); // killed by the timer would be null
    expect(stdout).toMatch(/^\{.*"ghcr\.io":"octocat".*\}\n$/);
  });
});
