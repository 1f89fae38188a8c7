/**
 * berth next to the Go reference, Debian's `docker-credential-pass` (docker-credential-helpers), fed
 * the same input: the same bytes wherever the reference is right, and the documented differences
 * where berth does better (not-found is an error, not empty credentials with exit 0; an empty secret
 * is refused; erasing an absent entry is not an error).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, spawnCollect, type ClientHome, type RunResult } from './harness/clients.js';
import { missingTools, requireTools, TOOLS, type Tool } from './harness/tools.js';
import { removeDir } from '../fakes/temp.js';
import { argvFor } from './harness/build.js';

const NEEDED: Tool[] = [
  TOOLS.pass,
  { program: 'gpg', debianPackage: 'gnupg' },
  { program: 'docker-credential-pass', debianPackage: 'golang-docker-credential-helpers' },
];

let home: ClientHome;
let passEnv: Record<string, string>;

/** A throwaway GnuPG home with an unprotected key, and a password store initialised for it. */
function makePassStore(dir: string, env: Record<string, string>): Record<string, string> {
  const gnupg = mkdtempSync(join(dir, 'gnupg-'));
  const withGpg = { ...env, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: join(dir, 'password-store') };
  const params = join(dir, 'key-params');
  writeFileSync(
    params,
    [
      '%no-protection',
      'Key-Type: eddsa',
      'Key-Curve: ed25519',
      'Subkey-Type: ecdh',
      'Subkey-Curve: cv25519',
      'Name-Real: berth test',
      'Name-Email: test@berth.invalid',
      'Expire-Date: 0',
      '%commit',
      '',
    ].join('\n'),
  );
  execFileSync('gpg', ['--batch', '--gen-key', params], { env: withGpg, stdio: 'ignore', timeout: 60_000 });
  const listing = execFileSync('gpg', ['--list-keys', '--with-colons'], { env: withGpg, encoding: 'utf8' });
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(listing)?.[1];
  if (!fingerprint) throw new Error('gpg made no key');
  execFileSync('pass', ['init', fingerprint], { env: withGpg, stdio: 'ignore', timeout: 60_000 });
  return withGpg;
}

beforeAll(async () => {
  home = await clientHome();
  if (missingTools(NEEDED) === '') passEnv = makePassStore(home.dir, home.env);
});
afterAll(async () => {
  if (passEnv) execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: passEnv, stdio: 'ignore' });
  await removeDir(home.dir);
});

const berth = (args: string[], stdin = ''): Promise<RunResult> => spawnCollect(...argvFor('helper', args), home.env, { stdin });
const reference = (args: string[], stdin = ''): Promise<RunResult> => spawnCollect('docker-credential-pass', args, passEnv, { stdin });
const outcome = ({ stdout, code }: RunResult) => ({ stdout, code });
const creds = (ServerURL: string, Username: string, Secret: string) => JSON.stringify({ ServerURL, Username, Secret });

// Each step runs on both helpers, in order, so both stores go through the same history.
const SAME: [string, string[], string][] = [
  ['list on an empty store', ['list'], ''],
  ['store with an empty ServerURL', ['store'], creds('', 'u', 'p')],
  ['store with an empty Username', ['store'], creds('x.example', '', 'p')],
  ['get with empty input', ['get'], ''],
  ['erase with empty input', ['erase'], '\n'],
  ['store', ['store'], creds('ghcr.io', 'octocat', 'ghp_reference_1')],
  ['get', ['get'], 'ghcr.io'],
  ['list', ['list'], ''],
  ['erase', ['erase'], 'ghcr.io'],
];

describe('berth and docker-credential-pass on the same input', { timeout: 120_000 }, () => {
  it('give the same stdout bytes and exit codes where the reference is right', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    for (const [name, args, stdin] of SAME) {
      const [ours, theirs] = [await berth(args, stdin), await reference(args, stdin)];
      expect(outcome(ours), `${name}: ${theirs.stderr}`).toEqual(outcome(theirs));
    }
  });

  it('print usage the same way, with their own names', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const [ours, theirs] = [await berth([]), await reference([])];
    expect(outcome(ours)).toEqual({
      ...outcome(theirs),
      stdout: theirs.stdout.replace('docker-credential-pass', 'docker-credential-berth'),
    });
  });

  it('differ where berth does better', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    // Not found: the reference (0.6.4, Debian 12) exits 0 with empty credentials; berth prints the
    // text clients match.
    expect(outcome(await reference(['get'], 'nowhere.example'))).toEqual({
      stdout: '{"ServerURL":"nowhere.example","Username":"","Secret":""}\n',
      code: 0,
    });
    expect(outcome(await berth(['get'], 'nowhere.example'))).toEqual({ stdout: 'credentials not found in native keychain\n', code: 1 });
    // Erasing what is not there: the reference fails, berth (like `docker logout` expects) does not.
    expect((await reference(['erase'], 'nowhere.example')).code).toBe(1);
    expect(outcome(await berth(['erase'], 'nowhere.example'))).toEqual({ stdout: '', code: 0 });
    // An empty secret: stored by the reference, refused by berth.
    expect((await reference(['store'], creds('empty.example', 'u', ''))).code).toBe(0);
    expect(outcome(await berth(['store'], creds('empty.example', 'u', '')))).toEqual({ stdout: 'no credentials secret\n', code: 1 });
  });

  it('escape identity tokens differently but mean the same JSON', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const input = creds('acr.example', '<token>', 'refresh-token-value');
    await berth(['store'], input);
    await reference(['store'], input);
    const [ours, theirs] = [await berth(['get'], 'acr.example'), await reference(['get'], 'acr.example')];
    expect(theirs.stdout).toContain('"Username":"\\u003ctoken\\u003e"'); // Go's encoder escapes < and >
    expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(theirs.stdout));
  });
});
