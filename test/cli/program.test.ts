/** `berth` itself: what a mistyped command line prints, in the same form as every other message. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempHome, type TempHome } from './cli-harness.js';

const homes: TempHome[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await home.cleanup();
});

describe('berth', () => {
  it('an unknown option: one error line and the hint, exit 1', async () => {
    const h = await tempHome();
    homes.push(h);
    expect(await h.berth(['--bogus'])).toEqual({
      stdout: '',
      stderr: "berth: error: unknown option '--bogus'\nberth: hint: add --help for usage\n",
      code: 1,
    });
  });

  it('a bad config file: path, line and column, the field, and the likely fix', async () => {
    const h = await tempHome();
    homes.push(h);
    const config = join(h.env.XDG_CONFIG_HOME!, 'berth', 'config.json');
    await mkdir(dirname(config), { recursive: true });
    await writeFile(config, '{\n  "registries": [\n    { "name": "a", "provider": "static", "hots": "r.example" }\n  ]\n}\n');
    const result = await h.berth(['registries', 'list']);
    expect(result).toEqual({
      stdout: '',
      stderr:
        `berth: error: ${config}:3:42: registries[0]: unknown field "hots"\n` +
        'berth: hint: did you mean "host"? the fields here are name, provider, host, options, prefix, default, fallback\n',
      code: 1,
    });
  });
});
