/**
 * The built `berth` as a user's shell runs it: a reader that stops early, version, exit codes
 * (0 ok, 1 failure, 2 usage), help without doubled defaults, completion scripts that load in bash,
 * and `-` as stdout for every output.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BERTH_JS, spawnCollect } from '../e2e/harness/clients.js';
import { tempHome } from '../e2e/harness/daemon.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shell() {
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const env = Object.fromEntries(Object.entries(home.env).filter((entry) => entry[1] !== undefined)) as Record<string, string>;
  const berth = (args: string[], stdin = '') => spawnCollect(process.execPath, [BERTH_JS, ...args], env, { stdin });
  const sh = (script: string) => spawnCollect('bash', ['-c', script], { ...env, BERTH: `${process.execPath} ${BERTH_JS}` });
  return { home, env, berth, sh };
}

describe('berth in a shell', { timeout: 60_000 }, () => {
  it('a reader that stops early gets no EPIPE stack trace', async () => {
    const { sh } = await shell();
    const result = await sh(
      `set -o pipefail; $BERTH help registries | head -3; $BERTH registries add --help | true; echo "status \${PIPESTATUS[0]}"`,
    );
    expect(result.stdout.split('\n').slice(0, 3).join('\n')).toMatch(/^Usage: berth registries/);
    expect(result.stdout).toMatch(/status 0\n$/);
    expect(result.stderr).toBe('');
  });

  it('version, -v and --version; exit 2 for usage, 1 for a failure', async () => {
    const { berth } = await shell();
    const version = await berth(['version']);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^berth \d+\.\d+\.\d+\S*\n$/) });
    expect((await berth(['-v'])).stdout).toBe(version.stdout);
    expect((await berth(['--version'])).stdout).toBe(version.stdout);
    expect((await berth(['nosuch'])).code).toBe(2);
    expect((await berth(['login'])).code).toBe(2);
    expect((await berth(['registries', 'add', 'x', '--provider', 'ecr', '--host', 'ghcr.io'])).code).toBe(2);
    expect((await berth(['registries', 'remove', 'ghost'])).code).toBe(1);
  });

  it('help shows each default once', async () => {
    const { berth } = await shell();
    for (const command of [['generate'], ['registries', 'add'], ['encrypt'], ['rekey']]) {
      const help = (await berth([...command, '--help'])).stdout;
      expect(help, command.join(' ')).not.toMatch(/\(default: \[\]\)|\(default[^)]*\)\s*\(default/);
    }
  });

  it('completion scripts: bash loads and registers berth; zsh and fish name every command', async () => {
    const { berth, sh } = await shell();
    const bash = (await berth(['completion', 'bash'])).stdout;
    expect(spawnSync('bash', ['-n'], { input: bash }).status).toBe(0);
    const loaded = await sh(
      `eval "$($BERTH completion bash)" && complete -p berth && COMP_WORDS=(berth registries a); COMP_CWORD=2; _berth && echo "\${COMPREPLY[*]}"`,
    );
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout).toBe('complete -o default -F _berth berth\nadd\n');
    const options = await sh(
      `eval "$($BERTH completion bash)"; COMP_WORDS=(berth generate --f); COMP_CWORD=2; _berth; echo "\${COMPREPLY[*]}"`,
    );
    expect(options.stdout).toBe('--format\n');
    for (const shellName of ['zsh', 'fish']) {
      const script = (await berth(['completion', shellName])).stdout;
      for (const command of ['login', 'registries', 'generate', 'daemon', 'completion', 'version']) expect(script).toContain(command);
    }
    expect(spawnSync('bash', ['-n'], { input: (await berth(['completion', 'zsh'])).stdout }).status).toBe(0);
    expect(await berth(['completion', 'tcsh'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^berth: error: no completion for "tcsh"\n/),
    });
  });

  it('- is stdout: generate, decrypt (also when the output is omitted), encrypt, keygen', async () => {
    const { home, berth } = await shell();
    await mkdir(join(home.env.XDG_CONFIG_HOME!, 'berth'), { recursive: true });
    const registries = [
      { name: 'hub', provider: 'static', host: 'ghcr.io', options: { username: 'octocat', passwordFile: join(home.dir, 'pw') } },
    ];
    await writeFile(join(home.env.XDG_CONFIG_HOME!, 'berth/config.json'), JSON.stringify({ registries }));
    await writeFile(join(home.dir, 'pw'), 'ghp_from_file\n');
    const generated = await berth(['generate', '-', '--no-cache']);
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.stdout)).toEqual({
      auths: { 'ghcr.io': { auth: Buffer.from('octocat:ghp_from_file').toString('base64') } },
    });
    expect(generated.stderr).toMatch(/wrote stdout \(config, 1 registry\)\n$/);
    expect(await readdir(home.dir)).not.toContain('-');
    const summary = await berth(['generate', join(home.dir, 'out.json'), '--no-cache', '--json']);
    expect(JSON.parse(summary.stdout)).toMatchObject({
      format: 'config',
      registries: [{ name: 'hub', username: 'octocat', expiresAt: null }],
    });
    expect(summary.stdout + summary.stderr).not.toContain('ghp_from_file');
    expect((await berth(['generate', join(home.dir, 'quiet.json'), '--no-cache', '--quiet'])).stderr).toBe('');

    const key = (await berth(['keygen', '-'])).stdout;
    await writeFile(join(home.dir, 'k.aes'), key, { mode: 0o600 });
    const sealed = spawnSync(process.execPath, [BERTH_JS, 'encrypt', '-', '-', '--key-path', join(home.dir, 'k.aes')], { input: 'A=1\n' });
    expect(sealed.status).toBe(0);
    await writeFile(join(home.dir, 'env.encrypted'), sealed.stdout);
    for (const args of [[], ['-']]) {
      const opened = await berth(['decrypt', join(home.dir, 'env.encrypted'), ...args, '--key-path', join(home.dir, 'k.aes')]);
      expect(opened).toMatchObject({ code: 0, stdout: 'A=1\n' });
    }
  });
});
