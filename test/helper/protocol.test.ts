/**
 * handleCommand against an in-memory store: every case of the credential-helper protocol, byte for
 * byte. The same cases run against the built binary in conformance.test.ts.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NOT_FOUND_MESSAGE } from '../../core/errors.js';
import { DOCKER_HUB_KEY } from '../../core/registry-host.js';
import type { Store } from '../../core/store/store.js';
import { handleCommand, type Action } from '../../helper/protocol.js';
import { memoryStore } from '../fakes/memory-store.js';

interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(store: Store, action: Action, stdin: string | NodeJS.ReadableStream = ''): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await handleCommand(
    action,
    { openStore: async () => store, version: '1.2.3' },
    {
      stdin: typeof stdin === 'string' ? Readable.from([Buffer.from(stdin)]) : stdin,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
  );
  return { stdout, stderr, code };
}

const creds = (serverURL: string, username = 'alice', secret = 's3cret-value') =>
  JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });

describe('store and get', () => {
  it('round-trips and prints one JSON line echoing the ServerURL as asked', async () => {
    const store = memoryStore();
    expect(await run(store, 'store', creds('https://ghcr.io'))).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(await run(store, 'get', 'ghcr.io')).toEqual({
      stdout: '{"ServerURL":"ghcr.io","Username":"alice","Secret":"s3cret-value"}\n',
      stderr: '',
      code: 0,
    });
  });

  it('trims whitespace and a trailing newline around the server URL', async () => {
    const store = memoryStore();
    await run(store, 'store', creds('localhost:5000'));
    const got = await run(store, 'get', '  localhost:5000\n');
    expect(got.stdout).toBe('{"ServerURL":"localhost:5000","Username":"alice","Secret":"s3cret-value"}\n');
  });

  it.each([
    ['https://host.example', 'host.example'],
    ['host.example', 'https://host.example'],
    ['host.example/', 'host.example'],
    ['HTTPS://Host.Example/', 'host.example'],
    ['localhost:5000', 'http://localhost:5000/v2/'],
  ])('stored as %s, found as %s', async (stored, asked) => {
    const store = memoryStore();
    await run(store, 'store', creds(stored));
    const got = await run(store, 'get', asked);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ ServerURL: asked, Username: 'alice', Secret: 's3cret-value' });
  });

  it.each(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'https://registry-1.docker.io'])(
    "Docker Hub alias %s meets docker login's key",
    async (alias) => {
      const store = memoryStore();
      await run(store, 'store', creds(DOCKER_HUB_KEY, 'hubuser'));
      const got = await run(store, 'get', alias);
      expect(JSON.parse(got.stdout)).toEqual({ ServerURL: alias, Username: 'hubuser', Secret: 's3cret-value' });
    },
  );

  it('keeps identity tokens: Username <token>, Secret the token', async () => {
    const store = memoryStore();
    await run(store, 'store', creds('myregistry.azurecr.io', '<token>', 'eyJhbGciOi.refresh'));
    const got = await run(store, 'get', 'myregistry.azurecr.io');
    expect(JSON.parse(got.stdout)).toEqual({ ServerURL: 'myregistry.azurecr.io', Username: '<token>', Secret: 'eyJhbGciOi.refresh' });
  });

  it('replaces an entry on a second store', async () => {
    const store = memoryStore();
    await run(store, 'store', creds('quay.io', 'old', 'one'));
    await run(store, 'store', creds('https://quay.io', 'new', 'two'));
    expect(JSON.parse((await run(store, 'get', 'quay.io')).stdout)).toMatchObject({ Username: 'new', Secret: 'two' });
    expect(store.entries.size).toBe(1);
  });

  it('stores a 200 KiB secret', async () => {
    const store = memoryStore();
    const secret = 'x'.repeat(200 * 1024);
    expect((await run(store, 'store', creds('big.example', 'u', secret))).code).toBe(0);
    expect(JSON.parse((await run(store, 'get', 'big.example')).stdout).Secret).toBe(secret);
  });
});

describe('errors: one line on stdout, exit 1, nothing stored', () => {
  it('not found prints the exact text clients compare', async () => {
    expect(await run(memoryStore(), 'get', 'nowhere.example')).toEqual({ stdout: `${NOT_FOUND_MESSAGE}\n`, stderr: '', code: 1 });
    expect(NOT_FOUND_MESSAGE).toBe('credentials not found in native keychain');
  });

  it.each([
    ['empty ServerURL', creds(''), 'no credentials server URL\n'],
    ['missing ServerURL', JSON.stringify({ Username: 'a', Secret: 'b' }), 'no credentials server URL\n'],
    ['empty Username', creds('ghcr.io', ''), 'no credentials username\n'],
  ])('store with %s', async (_, input, message) => {
    const store = memoryStore();
    expect(await run(store, 'store', input)).toEqual({ stdout: message, stderr: '', code: 1 });
    expect(store.calls.set).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"ServerURL": '],
    ['an array', '[]'],
    ['a number field', '{"ServerURL":"a","Username":1,"Secret":"b"}'],
  ])('store with %s input', async (_, input) => {
    const store = memoryStore();
    const out = await run(store, 'store', input);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^invalid credentials JSON on stdin: [^\n]+\n$/);
    expect(store.calls.set).toBe(0);
  });

  it.each(['get', 'erase'] as const)('%s with an empty server URL', async (action) => {
    expect(await run(memoryStore(), action, ' \n')).toEqual({ stdout: 'no credentials server URL\n', stderr: '', code: 1 });
  });

  it('refuses more than 1 MiB of input with one line', async () => {
    const store = memoryStore();
    const out = await run(store, 'store', creds('big.example', 'u', 'x'.repeat(1024 * 1024 + 1)));
    expect(out).toEqual({ stdout: 'input too large: more than 1048576 bytes on stdin\n', stderr: '', code: 1 });
    expect(store.calls.set).toBe(0);
  });

  it('reports a failing store in one line and never the secret', async () => {
    const out = await run(memoryStore({ failWith: 'the keychain is locked' }), 'store', creds('ghcr.io'));
    expect(out).toEqual({ stdout: 'the keychain is locked\n', stderr: '', code: 1 });
  });
});

describe('erase and list', () => {
  it('erase removes every spelling of one registry and an absent entry is no error', async () => {
    const store = memoryStore();
    await run(store, 'store', creds('https://index.docker.io/v1/'));
    expect(await run(store, 'erase', 'docker.io')).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(store.entries.size).toBe(0);
    expect(await run(store, 'erase', 'docker.io')).toEqual({ stdout: '', stderr: '', code: 0 });
  });

  it('list prints {} when empty and key → user name otherwise, never a secret', async () => {
    const store = memoryStore();
    expect((await run(store, 'list')).stdout).toBe('{}\n');
    await run(store, 'store', creds('ghcr.io', 'alice', 'topsecret1'));
    await run(store, 'store', creds('docker.io', 'bob', 'topsecret2'));
    const out = await run(store, 'list');
    expect(JSON.parse(out.stdout)).toEqual({ 'ghcr.io': 'alice', [DOCKER_HUB_KEY]: 'bob' });
    expect(out.stdout).not.toMatch(/topsecret/);
  });

  it('list does not read stdin: a stdin that never ends does not hang it', async () => {
    const store = memoryStore();
    const open = new PassThrough(); // never ended, like docker-py's inherited terminal
    const out = await run(store, 'list', open);
    expect(out).toEqual({ stdout: '{}\n', stderr: '', code: 0 });
    expect(open.listenerCount('data')).toBe(0);
  });

  it('version prints one line with the name and version', async () => {
    expect(await run(memoryStore(), 'version')).toEqual({ stdout: 'docker-credential-berth berth 1.2.3\n', stderr: '', code: 0 });
  });
});

describe('hardening: input that must not be echoed or mangled', () => {
  it('never quotes the input in a JSON error, and says where it broke', async () => {
    const store = memoryStore();
    const bare = await run(store, 'store', 'ghp_s3cr3t');
    expect(bare.code).toBe(1);
    expect(bare.stdout).not.toContain('s3cr3t');
    expect(bare.stdout).toBe('invalid credentials JSON on stdin: invalid symbol at line 1, column 1 (offset 0)\n');
    const broken = await run(store, 'store', '{"ServerURL":"r.example",\n "Username":"u" "Secret":"ghp_s3cr3t"}');
    expect(broken.stdout).toBe('invalid credentials JSON on stdin: comma expected at line 2, column 17 (offset 42)\n');
    expect((await run(store, 'store', '')).stdout).toBe('invalid credentials JSON on stdin: the input is empty\n');
  });

  it('refuses bytes that are not UTF-8 with one line, storing nothing', async () => {
    const store = memoryStore();
    const input = Buffer.concat([
      Buffer.from('{"ServerURL":"r.example","Username":"u","Secret":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const outcome = await run(store, 'store', Readable.from([input]));
    expect(outcome).toEqual({
      stdout: 'stdin is not valid UTF-8 text\n',
      stderr: expect.stringContaining('hint') as unknown as string,
      code: 1,
    });
    expect(store.entries.size).toBe(0);
  });
});
