/**
 * `berth doctor` in the states users meet: fresh machine, configured without the helper on PATH,
 * a loose key file, a store whose key is gone, a store that cannot work here, a broken client file.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireTools, TOOLS } from '../../e2e/harness/tools.js';
import { cliHome, type CliHome } from '../../e2e/harness/cli.js';

/** A home whose PATH holds only node's directory and, if asked, a docker-credential-berth shim. */
async function home(options: { helperOnPath?: boolean; env?: Record<string, string> } = {}): Promise<CliHome> {
  return cliHome({ PATH: dirname(process.execPath), ...options.env }, { helperOnPath: options.helperOnPath });
}

describe('berth doctor', () => {
  it('on a fresh machine: store fine, nothing configured yet, exit 0', async () => {
    const h = await home();
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^ok +store +file \(the default\), 0 entries$/m);
    expect(result.stdout).toMatch(/^ok +store +no key file yet; the first login creates .*store\.key \(0600\)$/m);
    expect(result.stdout).toMatch(/^warn +helper +docker-credential-berth is not on PATH$/m);
    expect(result.stdout).toMatch(/^warn +docker +.*\.docker\/config\.json does not exist$/m);
    expect(result.stdout).toMatch(
      /^ok +berth +config file .*\/\.config\/berth\/config\.json \(not created yet; berth registries add creates it\)$/m,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('names the line of a bad config entry, and --json gives every check', async () => {
    const h = await home();
    await mkdir(join(h.env.XDG_CONFIG_HOME!, 'berth'), { recursive: true });
    const registries = [
      { name: 'hub', provider: 'static', host: 'docker.io' },
      { name: 'typo', provider: 'statc', host: 'quay.io' },
    ];
    await writeFile(join(h.env.XDG_CONFIG_HOME!, 'berth/config.json'), `${JSON.stringify({ registries }, null, 2)}\n`);
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^ok +berth +config file .*config\.json, 1 registry$/m);
    expect(result.stdout).toMatch(
      /^FAIL +berth +.*config\.json:10:\d+: registries\[1\]\.provider: .*"statc"; the entry "typo" is skipped$/m,
    );
    expect(result.code).toBe(1);
    const json = await h.berth(['doctor', '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    const checks = JSON.parse(json.stdout) as { level: string; subject: string; message: string }[];
    expect(checks.filter((check) => check.level === 'fail').map((check) => check.subject)).toEqual(['berth']);
    expect(checks.map((check) => check.subject)).toEqual(expect.arrayContaining(['berth', 'store', 'helper', 'docker', 'containers']));
  });

  it('configured but the helper is not on PATH: fails', async () => {
    const h = await home();
    await h.berth(['configure', '--docker-only']);
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^FAIL +helper +docker-credential-berth is not on PATH$/m);
    expect(result.stdout).toMatch(/^ok +docker +.*config\.json: credsStore is berth$/m);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('berth: error: 1 check failed\n');
  });

  it('all good after login and configure with the helper on PATH', async () => {
    const h = await home({ helperOnPath: true });
    expect((await h.berth(['login', 'ghcr.io', '-u', 'octocat', '--password-stdin'], 'ghp_doctor_s3cret\n')).code).toBe(0);
    await h.berth(['configure']);
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^ok +store +file \(the default\), 1 entry$/m);
    expect(result.stdout).toMatch(/^ok +store +key file .*store\.key \(0600\)$/m);
    expect(result.stdout).toMatch(/^ok +helper +.*docker-credential-berth \(docker-credential-berth berth [^)]+\)$/m);
    expect(result.stdout).toMatch(/^ok +containers +.*auth\.json: credHelpers send ghcr\.io to berth$/m);
    expect(result.stdout).not.toContain('ghp_doctor_s3cret');
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('a key file others can read fails with the fix', async () => {
    const h = await home();
    await h.berth(['login', 'ghcr.io', '-u', 'octocat', '--password-stdin'], 'pw');
    const keyPath = join(h.env.XDG_DATA_HOME!, 'berth/store.key');
    await chmod(keyPath, 0o644);
    const result = await h.berth(['doctor']);
    expect(result.stdout).toContain(`FAIL  store       ${keyPath} is readable by others (mode 0644)\n`);
    expect(result.stdout).toContain(`hint: run: chmod 600 ${keyPath}\n`);
    expect(result.code).toBe(1);
  });

  it('a store whose key file is gone fails naming both files', async () => {
    const h = await home();
    await h.berth(['login', 'ghcr.io', '-u', 'octocat', '--password-stdin'], 'pw');
    await rm(join(h.env.XDG_DATA_HOME!, 'berth/store.key'));
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(
      /^FAIL +store +file \(the default\): .*credentials\.berth exists but its key file .*store\.key is missing$/m,
    );
    expect(result.code).toBe(1);
  });

  it.each([
    [{ BERTH_STORE: 'vault' }, /^FAIL +store +BERTH_STORE=vault is not a store$/m],
    [
      { BERTH_STORE: 'keychain' },
      /^FAIL +store +keychain \(BERTH_STORE is set\): no D-Bus session \(DBUS_SESSION_BUS_ADDRESS is unset\), so no Secret Service$/m,
    ],
    [{ BERTH_STORE: 'pass', PATH: '/nonexistent' }, /^FAIL +store +pass \(BERTH_STORE is set\): `pass` is not on PATH$/m],
  ])('%o cannot work here', async (env, line) => {
    const h = await home({ env });
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(line);
    expect(result.code).toBe(1);
  });

  it('pass without an initialised password store fails with the fix', async (ctx) => {
    requireTools([TOOLS.pass], ctx.skip);
    const h = await home({ env: { BERTH_STORE: 'pass', PATH: process.env.PATH ?? '' } });
    const result = await h.berth(['doctor']);
    expect(result.stdout).toContain(
      `pass (BERTH_STORE is set): the pass store is not initialised (no .gpg-id in ${h.dir}/.password-store): run "pass init <your-gpg-key-id>"`,
    );
    expect(result.stdout).toMatch(/hint: pass needs a GPG recipient/m);
    expect(result.code).toBe(1);
  });

  it.for([
    ['PASSWORD_STORE_KEY names the recipient', { PASSWORD_STORE_KEY: 'ABCDEF0123456789' }, undefined],
    ["the docker folder's own .gpg-id", {}, 'docker-credential-helpers'],
  ] as const)('pass counts as initialised as pass itself does: %s', async ([, extra, folder], ctx) => {
    requireTools([TOOLS.pass], ctx.skip);
    const h = await home({ env: { BERTH_STORE: 'pass', PATH: process.env.PATH ?? '', ...extra } });
    if (folder) {
      await mkdir(join(h.dir, '.password-store', folder), { recursive: true, mode: 0o700 });
      await writeFile(join(h.dir, '.password-store', folder, '.gpg-id'), 'ABCDEF0123456789\n');
    }
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^ok +store +pass \(BERTH_STORE is set\), 0 entries$/m);
  });

  it('a docker config that is not JSON fails', async () => {
    const h = await home();
    await mkdir(join(h.dir, '.docker'));
    await writeFile(join(h.dir, '.docker/config.json'), '{');
    const result = await h.berth(['doctor']);
    expect(result.stdout).toMatch(/^FAIL +config +.*\.docker\/config\.json:1:\d+: not valid JSON \([^)]+\)/m);
    expect(result.code).toBe(1);
  });
});
