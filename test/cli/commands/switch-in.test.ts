/**
 * Switching to berth hides nothing and switching back leaks nothing: `berth configure` over a
 * `credsStore` or `credHelpers` entry naming another helper imports that helper's entries (or
 * refuses, changing nothing), remembers what it replaced in berth's own state, and `berth
 * unconfigure` puts it back. The other helper here is a small docker-credential-* script speaking the
 * protocol; the real docker-credential-pass runs in test/e2e/docker.test.ts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../core/store/index.js';
import { tempHome, type TempHome } from '../cli-harness.js';

// A helper holding one entry for quay.io; `FAIL_LIST=1` makes its list fail.
const HELPER = `#!/bin/sh
case "$1" in
  list) [ -n "$FAIL_LIST" ] && { echo "the vault is sealed"; exit 1; }; echo '{"quay.io":"org+robot"}' ;;
  get) read -r url; [ "$url" = quay.io ] && echo '{"ServerURL":"quay.io","Username":"org+robot","Secret":"vault-secret-9"}' && exit 0
       echo "credentials not found in native keychain"; exit 1 ;;
  *) exit 1 ;;
esac
`;

let home: TempHome;
let dockerFile: string;
let authFile: string;

async function put(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, '\t')}\n`, { mode: 0o600 });
}
const json = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

beforeEach(async () => {
  home = await tempHome({ BERTH_STORE: 'file' }, { helperOnPath: true });
  await writeFile(join(home.dir, 'bin/docker-credential-vault'), HELPER, { mode: 0o755 });
  dockerFile = join(home.dir, '.docker/config.json');
  authFile = join(home.dir, '.config/containers/auth.json');
});
afterEach(() => home.cleanup());

describe('berth configure over another helper', () => {
  it('imports the credsStore helper, remembers it outside config.json, and unconfigure restores it', async () => {
    await put(dockerFile, { auths: { 'quay.io': {} }, credsStore: 'vault' });
    await put(authFile, { credHelpers: { 'quay.io': 'vault' } });
    const configured = await home.berth(['configure']);
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout).toContain('docker-credential-vault → berth: 1 copied, 0 already there, 0 kept (differ), 0 failed');
    expect(configured.stdout).toContain('credsStore: vault → berth');
    expect(configured.stdout).toContain('credHelpers.quay.io: vault → berth');
    const store = await openStore('file', { env: home.env });
    expect(await store.get('quay.io')).toMatchObject({ username: 'org+robot', secret: 'vault-secret-9' });
    expect(await json(dockerFile)).toEqual({ auths: { 'quay.io': {} }, credsStore: 'berth' });
    const state = await json(join(home.dir, '.local/share/berth/replaced-helpers.json'));
    expect(state).toEqual({ [dockerFile]: { credsStore: 'vault' }, [authFile]: { credHelpers: { 'quay.io': 'vault' } } });

    const doctor = await home.berth(['doctor']);
    expect(doctor.stdout).toContain('berth holds every entry of docker-credential-vault');

    const unconfigured = await home.berth(['unconfigure']);
    expect(unconfigured.code, unconfigured.stderr).toBe(0);
    expect(unconfigured.stdout).toContain('credsStore: berth → vault (restored)');
    expect(unconfigured.stdout).toContain('credHelpers.quay.io: berth → vault (restored)');
    expect(await json(dockerFile)).toEqual({ auths: { 'quay.io': {} }, credsStore: 'vault' });
    expect(await json(authFile)).toEqual({ credHelpers: { 'quay.io': 'vault' } });
    expect(await json(join(home.dir, '.local/share/berth/replaced-helpers.json'))).toEqual({});
  });

  it('a helper that cannot be read: configure refuses with a hint and writes nothing', async () => {
    await put(dockerFile, { credsStore: 'vault' });
    const before = await readFile(dockerFile, 'utf8');
    (home.env as Record<string, string>).FAIL_LIST = '1';
    const refused = await home.berth(['configure']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^berth: error: .*config\.json has "credsStore": "vault", whose entries berth cannot import: docker-credential-vault list failed: the vault is sealed\nberth: hint: .*berth configure --no-import/,
    );
    expect(await readFile(dockerFile, 'utf8')).toBe(before);
  });

  it('--no-import switches anyway; doctor then flags the entries left in the other helper', async () => {
    await put(dockerFile, { credsStore: 'vault' });
    const switched = await home.berth(['configure', '--docker-only', '--no-import']);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stderr).toContain('credsStore was vault: its entries stay in docker-credential-vault');
    const doctor = await home.berth(['doctor']);
    expect(doctor.stdout).toMatch(
      /warn\s+helpers\s+docker-credential-vault holds quay\.io, which berth does not\n\s+hint: run: berth import --from vault/,
    );
    expect((await home.berth(['import', '--from', 'vault'])).code).toBe(0);
    expect((await home.berth(['doctor'])).stdout).toContain('berth holds every entry of docker-credential-vault');
  });

  it('--dry-run shows the import counts and writes nothing, neither the store nor berth state', async () => {
    await put(dockerFile, { credsStore: 'vault' });
    const dry = await home.berth(['configure', '--docker-only', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('docker-credential-vault → berth: 1 to copy');
    expect(dry.stdout).toContain('+\t"credsStore": "berth"');
    expect(await json(dockerFile)).toEqual({ credsStore: 'vault' });
    expect(await (await openStore('file', { env: home.env })).list()).toEqual({});
    await expect(readFile(join(home.dir, '.local/share/berth/replaced-helpers.json'))).rejects.toThrow(/ENOENT/);
  });

  it('--registry over a credHelpers entry of another helper copies that entry first, and unconfigure restores the entry', async () => {
    await put(dockerFile, { credHelpers: { 'quay.io': 'vault', 'gcr.io': 'gcloud' } });
    const configured = await home.berth(['configure', '--docker-only', '--registry', 'quay.io']);
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout).toContain('docker-credential-vault → berth: copied quay.io (org+robot)');
    expect(configured.stdout).toContain('credHelpers.quay.io: vault → berth');
    const store = await openStore('file', { env: home.env });
    expect((await store.get('quay.io'))?.secret).toBe('vault-secret-9');
    expect((await home.berth(['unconfigure', '--docker-only'])).stdout).toContain('credHelpers.quay.io: berth → vault (restored)');
    expect(await json(dockerFile)).toEqual({ credHelpers: { 'quay.io': 'vault', 'gcr.io': 'gcloud' } });
  });
});
