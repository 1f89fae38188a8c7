/** `berth` itself: what a mistyped command line prints, in the same form as every other message. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS } from '../../cli/program.js';
import { cliHome } from '../e2e/harness/cli.js';

describe('berth', () => {
  it('an unknown option: one error line and the hint, exit 2', async () => {
    const h = await cliHome();
    expect(await h.berth(['--bogus'])).toEqual({
      stdout: '',
      stderr: "berth: error: unknown option '--bogus'\nberth: hint: add --help for usage\n",
      code: 2,
    });
  });

  it('a bad registry entry: path, line and column, the field and the likely fix; the entry is skipped', async () => {
    const h = await cliHome();
    const config = h.configPath;
    await mkdir(dirname(config), { recursive: true });
    await writeFile(config, '{\n  "registries": [\n    { "name": "a", "provider": "static", "hots": "r.example" }\n  ]\n}\n');
    const result = await h.berth(['registries', 'list']);
    expect(result).toEqual({
      stdout: `no registries configured in ${config}\n`,
      stderr:
        `berth: warning: ${config}:3:42: registries[0]: unknown field "hots"; the entry "a" is skipped ` +
        '(did you mean "host"? the fields here are name, provider, host, options, prefix, default, fallback)\n',
      code: 0,
    });
  });

  it('a bad store in the config file: an error with path, line and column, and the choices', async () => {
    const h = await cliHome();
    await mkdir(dirname(h.configPath), { recursive: true });
    await writeFile(h.configPath, '{\n  "store": "vault"\n}\n');
    expect(await h.berth(['list'])).toEqual({
      stdout: '',
      stderr: `berth: error: ${h.configPath}:2:3: store: must be one of "file", "keychain", "pass", not "vault"\n`,
      code: 1,
    });
  });
});

describe('command groups', () => {
  const ctx = { env: {}, cwd: '/', stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

  it('each group names exactly the top-level commands it registers, and no name is in two groups', async () => {
    const seen: string[] = [];
    for (const group of COMMANDS) {
      const program = new Command('berth');
      (await group.load())(program, ctx);
      const registered = program.commands.map((command) => command.name());
      expect(registered.sort()).toEqual([...group.names].sort());
      seen.push(...registered);
    }
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('a run builds only the group its command is in; help and completion build every command', async () => {
    const names = async (argv: string[]) => (await buildProgram(ctx, argv)).commands.map((command) => command.name()).sort();
    const all = await names([]);
    expect(all.length).toBeGreaterThan(20);
    expect(await names(['decrypt', 'a', 'b'])).toEqual(['decrypt', 'encrypt', 'key-id', 'keygen', 'rekey']);
    expect(await names(['version'])).toEqual(['version']);
    expect(await names(['--help'])).toEqual(all);
    expect(await names(['decrpyt'])).toEqual(all);
    expect(await names(['completion', 'bash'])).toEqual(all);
  });
});
