import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliSandbox, type CliSandbox } from './cli-harness.js';

let cli: CliSandbox;

beforeEach(async () => {
  cli = await cliSandbox();
  await mkdir(join(cli.home, 'config', 'berth'), { recursive: true });
  const registries = [{ name: 'broken', provider: 'static', host: 'r.example' }];
  await writeFile(join(cli.home, 'config', 'berth', 'config.json'), JSON.stringify({ registries }));
});
afterEach(() => cli.cleanup());

describe('berth generate', () => {
  it.each([
    [['out.json', '--registry', 'ghost'], /^berth: error: no registry named "ghost" and it is not a recognised cloud registry host\nberth: hint: configured registries: broken\n$/],
    [['out.json', '--format', 'yaml'], /argument 'yaml' is invalid\. Allowed choices are config, dockercfg, k8s-secret, k8s-dockercfg-secret/],
    [['out.json', '--format', 'k8s-secret', '--secret-name', 'Bad_Name'], /"Bad_Name" is not a valid Kubernetes secret name/],
    [['out.json'], /^berth: error: no credentials for r\.example: broken \(static\): /m],
  ])('%j fails with one clear line and writes no file', async (argv, message) => {
    const result = await cli.run('generate', ...argv);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    await expect(access(join(cli.home, 'out.json'))).rejects.toThrow(/ENOENT/);
  });

  it('says how to configure a registry when none is', async () => {
    await writeFile(join(cli.home, 'config', 'berth', 'config.json'), '{}');
    const result = await cli.run('generate', 'out.json');
    expect(result.stderr).toMatch(/^berth: error: no registries configured\nberth: hint: add one with `berth registries add/);
  });
});
