/**
 * `berth import --from` and `berth export --to` against Debian's own helpers, driven through their
 * protocol: docker-credential-pass over a real pass + gpg store, docker-credential-secretservice in
 * a private D-Bus session with gnome-keyring. Round trip, counts, `--dry-run`, no overwrite without
 * `--force`; a helper that hangs or fails is named in one line.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../core/store/index.js';
import { missingComponents } from '../../e2e/harness/components.js';
import { createPassStore, dockerCredentialPass, PASS_COMPONENTS, type PassFixture } from '../../e2e/harness/pass-store.js';
import { SECRET_SERVICE_COMPONENTS, startSecretService, type SessionBus } from '../../e2e/harness/secret-service.js';
import { tempHome, type TempHome } from '../cli-harness.js';

const HUB = 'https://index.docker.io/v1/';
const storeInput = (serverURL: string, username: string, secret: string) =>
  JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });

let home: TempHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

/** The import/export journey against one helper; `seed` and `read` talk to it directly. */
async function roundTrip(
  helper: string,
  env: Record<string, string>,
  seed: (serverURL: string, username: string, secret: string) => Promise<void>,
  read: (serverURL: string) => Promise<{ Username: string; Secret: string } | undefined>,
): Promise<void> {
  home = await tempHome({ ...env, BERTH_STORE: 'file' });
  await seed('quay.io', 'org+robot', 'quay-secret-1');
  await seed(HUB, 'dora', 'hub-secret-2');

  const dry = await home.berth(['import', '--from', helper, '--dry-run']);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain(`docker-credential-${helper} → berth (file store): 2 to copy, 0 already there, 0 kept (differ), 0 failed`);
  const store = await openStore('file', { env: home.env });
  expect(await store.list()).toEqual({});

  const first = await home.berth(['import', '--from', helper]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('2 copied, 0 already there, 0 kept (differ), 0 failed');
  expect(await store.get('quay.io')).toMatchObject({ username: 'org+robot', secret: 'quay-secret-1' });
  expect(await store.get(HUB)).toMatchObject({ username: 'dora', secret: 'hub-secret-2' });
  expect(first.stdout + first.stderr).not.toMatch(/secret-[12]/);

  const again = await home.berth(['import', '--from', helper]);
  expect(again.stdout).toContain('0 copied, 2 already there, 0 kept (differ), 0 failed');

  await seed('quay.io', 'org+robot', 'quay-rotated-3');
  const kept = await home.berth(['import', '--from', `docker-credential-${helper}`]);
  expect(kept.code).toBe(0);
  expect(kept.stdout).toContain('0 copied, 1 already there, 1 kept (differ), 0 failed');
  expect(kept.stderr).toContain("berth: warning: quay.io: berth's file store already has another login (org+robot); --force replaces it");
  expect((await store.get('quay.io'))?.secret).toBe('quay-secret-1');
  const forced = await home.berth(['import', '--from', helper, '--force']);
  expect(forced.stdout).toContain('1 copied, 1 already there, 0 kept (differ), 0 failed');
  expect((await store.get('quay.io'))?.secret).toBe('quay-rotated-3');

  await store.set('ghcr.io', { serverURL: 'ghcr.io', username: 'octocat', secret: 'ghcr-secret-4' });
  await store.set('quay.io', { serverURL: 'quay.io', username: 'org+robot', secret: 'quay-berth-5' });
  const exportDry = await home.berth(['export', '--to', helper, '--dry-run']);
  expect(exportDry.stdout).toContain(
    `berth (file store) → docker-credential-${helper}: 1 to copy, 1 already there, 1 kept (differ), 0 failed`,
  );
  expect(await read('ghcr.io')).toBeUndefined();
  const exported = await home.berth(['export', '--to', helper]);
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toContain('1 copied, 1 already there, 1 kept (differ), 0 failed');
  expect(await read('ghcr.io')).toEqual(expect.objectContaining({ Username: 'octocat', Secret: 'ghcr-secret-4' }));
  expect((await read('quay.io'))?.Secret).toBe('quay-rotated-3');
  const exportForced = await home.berth(['export', '--to', helper, '--force']);
  expect(exportForced.stdout).toContain('1 copied, 2 already there, 0 kept (differ), 0 failed');
  expect((await read('quay.io'))?.Secret).toBe('quay-berth-5');
}

describe('with docker-credential-pass (real pass and gpg)', () => {
  const missing = missingComponents(PASS_COMPONENTS);
  let pass: PassFixture | undefined;
  beforeAll(async () => {
    if (!missing) pass = await createPassStore();
  }, 120_000);
  afterAll(() => pass?.remove());

  it.skipIf(missing)('import, import again, --force, export: counts and values', { timeout: 120_000 }, async () => {
    await roundTrip(
      'pass',
      pass!.env,
      async (url, user, secret) => {
        expect((await dockerCredentialPass(pass!, 'store', storeInput(url, user, secret))).code).toBe(0);
      },
      async (url) => {
        // docker-credential-pass answers a missing entry with exit 0 and an empty secret.
        const result = await dockerCredentialPass(pass!, 'get', url);
        return result.code === 0 && JSON.parse(result.stdout).Secret ? JSON.parse(result.stdout) : undefined;
      },
    );
  });
});

describe('with docker-credential-secretservice (gnome-keyring in a private D-Bus session)', () => {
  const missing = missingComponents({
    ...SECRET_SERVICE_COMPONENTS,
    'docker-credential-secretservice': 'golang-docker-credential-helpers',
  });
  let bus: SessionBus | undefined;
  beforeAll(async () => {
    if (!missing) bus = await startSecretService();
  }, 120_000);
  afterAll(() => bus?.stop());

  const helper = (action: string, input: string) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(
        'docker-credential-secretservice',
        [action],
        { env: { PATH: process.env.PATH ?? '', ...bus!.env } },
        (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
      );
      child.stdin?.end(input);
    });

  it.skipIf(missing)('import, import again, --force, export: counts and values', { timeout: 120_000 }, async () => {
    await roundTrip(
      'secretservice',
      bus!.env,
      async (url, user, secret) => {
        // The helper adds a second item rather than replacing one: erase first, as docker login does.
        await helper('erase', url);
        expect((await helper('store', storeInput(url, user, secret))).code).toBe(0);
      },
      async (url) => {
        const result = await helper('get', url);
        return result.code === 0 ? JSON.parse(result.stdout) : undefined;
      },
    );
  });
});

describe('a helper that hangs or fails', () => {
  it.each([
    ['hangs', 'sleep 30', /^berth: error: docker-credential-stuck list did not answer within 1s\n/],
    ['fails', 'echo "the store is locked"; exit 1', /^berth: error: docker-credential-stuck list failed: the store is locked\n/],
    ['prints junk', 'echo "not json"', /^berth: error: docker-credential-stuck list did not print a JSON object\n/],
  ])('%s: named in one line, exit 1', async (_what, body, message) => {
    home = await tempHome({ BERTH_STORE: 'file', BERTH_HELPER_TIMEOUT: '1' });
    await writeFile(join(home.dir, 'docker-credential-stuck'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const env = home.env as Record<string, string>;
    env.PATH = `${home.dir}:${env.PATH}`;
    const result = await home.berth(['import', '--from', 'stuck']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('a helper not on PATH, or berth itself', async () => {
    home = await tempHome({ BERTH_STORE: 'file' });
    const absent = await home.berth(['export', '--to', 'nosuchhelper']);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^berth: error: docker-credential-nosuchhelper list: cannot run it \(not on PATH\)\n/);
    const self = await home.berth(['import', '--from', 'berth']);
    expect(self.stderr).toMatch(/^berth: error: "berth" is berth itself/);
  });
});
