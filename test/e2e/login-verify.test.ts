/**
 * `berth login` checks the credentials as `docker login` does, against a real registry: Debian's
 * `docker-registry` with htpasswd (Basic), and the same registry in `auth: token` mode behind a token
 * server (the Bearer flow from `WWW-Authenticate`, as Docker Hub, GHCR and Quay use). A wrong password
 * is refused with one line and nothing is stored; `--no-verify` stores without asking; a registry
 * that cannot be reached gets "stored, not verified". `berth registries test` verifies a static
 * registry the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, type ClientHome } from './harness/clients.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS } from './harness/tools.js';

const USER = 'vera';
const PASSWORD = 'pw-verify-Qm3xT8zL';
const WRONG = 'pw-wrong-Lk2pW9sD';
const NEEDED = [TOOLS.registry, TOOLS.htpasswd];

let basic: Registry | undefined;
let bearer: Registry | undefined;
let home: ClientHome | undefined;

beforeAll(async () => {
  if (missingTools(NEEDED) !== '') return;
  [basic, bearer, home] = await Promise.all([
    startRegistry([{ username: USER, password: PASSWORD }]),
    startRegistry([{ username: USER, password: PASSWORD }], { tokenAuth: true }),
    clientHome(),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([basic?.stop(), bearer?.stop(), home?.cleanup()]);
});

const login = (host: string, password: string, ...flags: string[]) =>
  home!.berth(['login', host, '-u', USER, '--password-stdin', ...flags], { stdin: `${password}\n` });

describe('berth login verifies the credentials', { timeout: 120_000 }, () => {
  it.for([
    ['htpasswd (Basic)', () => basic!, 'HTTP 401'],
    ['token server (Bearer)', () => bearer!, 'its token service http://127\\.0\\.0\\.1:\\d+ answered HTTP 401'],
  ] as const)('%s: a wrong password is refused and not stored; the right one logs in', async ([, registry, detail], ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { host } = registry();
    const refused = await login(host, WRONG);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(
      new RegExp(
        `^berth: error: ${host.replaceAll('.', '\\.')} refused the credentials for ${USER} \\(${detail}\\)\n` +
          'berth: hint: check the user name and password or token; --no-verify stores them without asking the registry\n$',
      ),
    );
    expect((await home!.berth(['list', '--json'])).stdout).not.toContain(host);

    const ok = await login(host, PASSWORD);
    expect(ok).toMatchObject({ code: 0, stderr: '', stdout: `logged in to ${host} (file store)\n` });
    expect(JSON.parse((await home!.berth(['list', '--json'])).stdout)).toMatchObject({ [host]: USER });
    expect((await home!.berth(['logout', host])).stdout).toBe(`logged out of ${host}\n`);
    expect((await home!.berth(['logout', host])).stdout).toBe(`not logged in to ${host} (file store)\n`);
  });

  it('--no-verify stores without asking; an unreachable registry is "stored, not verified"', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const unverified = await login(basic!.host, WRONG, '--no-verify');
    expect(unverified).toMatchObject({ code: 0, stdout: `logged in to ${basic!.host} (file store)\n` });
    const closed = '127.0.0.1:9'; // discard: nothing listens there
    const offline = await login(closed, PASSWORD);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^127\.0\.0\.1:9: stored, not verified \(.+\) \(file store\)\n$/);
    expect(JSON.parse((await home!.berth(['list', '--json'])).stdout)).toMatchObject({ [closed]: USER });
    for (const run of home!.transcript) expect(run.stdout + run.stderr).not.toMatch(new RegExp(`${PASSWORD}|${WRONG}`));
  });

  it('registries test verifies a static registry against the registry itself', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const add = await home!.berth([
      'registries',
      'add',
      'tokened',
      '--provider',
      'static',
      '--host',
      bearer!.host,
      '-o',
      'usernameEnv=REG_USER',
      '-o',
      'passwordEnv=REG_TOKEN',
    ]);
    expect(add.code).toBe(0);
    const good = await home!.berth(['registries', 'test', 'tokened'], { env: { REG_USER: USER, REG_TOKEN: PASSWORD } });
    expect(good).toMatchObject({ code: 0, stderr: `berth: tokened: asking the static provider for ${bearer!.host}\n` });
    expect(good.stdout).toMatch(new RegExp(`^ok  tokened: ${bearer!.host} as ${USER} via static, does not expire; verified at http://`));
    const json = await home!.berth(['registries', 'test', 'tokened', '--json'], { env: { REG_USER: USER, REG_TOKEN: PASSWORD } });
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'tokened', host: bearer!.host, username: USER, verified: 'ok' });
    const bad = await home!.berth(['registries', 'test', 'tokened'], { env: { REG_USER: USER, REG_TOKEN: WRONG } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^berth: error: ${bearer!.host} refused the credentials for ${USER} `, 'm'));
  });
});
