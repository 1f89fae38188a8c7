/** The config file's schema: what it accepts, and for what it refuses, which field and which line. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { PROVIDER_NAMES, parseConfig } from '../../../core/config/schema.js';

const PATH = '/home/u/.config/berth/config.json';

/** The error for `text`: one line, a UsageError naming the file, the field and its line. */
async function refusal(text: string, field: string, line: number): Promise<string> {
  const err = await parseConfig(text, PATH).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  const message = (err as Error).message;
  expect(message).toContain(PATH);
  expect(message).toContain(field);
  expect(message).toMatch(new RegExp(`(line |:)${line}\\b`));
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('parseConfig accepts', () => {
  it('an empty object', async () => {
    expect(await parseConfig('{}', PATH)).toEqual({});
  });

  it('every field, typed as written', async () => {
    const config = {
      store: 'pass',
      daemon: { autoStart: true, socket: '/run/user/1000/berth/daemon.sock' },
      registries: [
        {
          name: 'prod',
          provider: 'ecr',
          host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
          options: { profile: 'prod', fips: true, durationSeconds: 900 },
          default: true,
          fallback: 'mirror',
        },
        { name: 'mirror', provider: 'static', host: 'mirror.example', prefix: 'team/app' },
      ],
    };
    expect(await parseConfig(json(config), PATH)).toEqual(config);
  });

  it.each(PROVIDER_NAMES)('provider %s', async (provider) => {
    const config = { registries: [{ name: 'r', provider, host: 'r.example' }] };
    expect(await parseConfig(json(config), PATH)).toEqual(config);
  });

  it.each(['a', 'A1', 'team-a.prod_2'])('the registry name %j', async (name) => {
    await expect(parseConfig(json({ registries: [{ name, provider: 'static', host: 'h' }] }), PATH)).resolves.toBeDefined();
  });
});

describe('parseConfig refuses', () => {
  it('text that is not JSON, naming the file', async () => {
    const err = await parseConfig('{\n  "store": "file",\n}\n', PATH).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(PATH);
    expect((err as Error).message).toMatch(/not valid JSON/);
  });

  it.each([
    ['an unknown top-level field', { store: 'file', colour: 'blue' }, 'colour', 3],
    ['an unknown store', { store: 'vault' }, 'store', 2],
    ['a daemon field of the wrong type', { daemon: { autoStart: 'yes' } }, 'daemon.autoStart', 3],
    ['registries that are not a list', { registries: { name: 'x' } }, 'registries', 2],
  ])('%s', async (_name, config, field, line) => {
    await refusal(json(config), field, line);
  });

  it.each([
    ['a bad name', { name: 'no spaces', provider: 'static', host: 'h' }, 'registries.1.name', 9],
    ['an unknown provider', { name: 'x', provider: 'quay', host: 'h' }, 'registries.1.provider', 10],
    ['an empty host', { name: 'x', provider: 'static', host: '' }, 'registries.1.host', 11],
    ['an unknown registry field', { name: 'x', provider: 'static', host: 'h', region: 'eu' }, 'registries.1.region', 12],
    ['an option that is a list', { name: 'x', provider: 'static', host: 'h', options: { a: [1] } }, 'registries.1.options.a', 13],
  ])('a registry with %s, on its line', async (_name, second, field, line) => {
    const text = json({ registries: [{ name: 'first', provider: 'static', host: 'first.example' }, second] });
    await refusal(text, field, line);
  });

  it('two registries of one name', async () => {
    const text = json({
      registries: [
        { name: 'a', provider: 'static', host: 'a.example' },
        { name: 'a', provider: 'static', host: 'b.example' },
      ],
    });
    expect(await refusal(text, 'registries.1.name', 9)).toMatch(/"a" is used twice/);
  });

  it('two defaults', async () => {
    const text = json({
      registries: [
        { name: 'a', provider: 'static', host: 'a.example', default: true },
        { name: 'b', provider: 'static', host: 'b.example', default: true },
      ],
    });
    expect(await refusal(text, 'registries.1.default', 13)).toMatch(/only one registry may be the default/);
  });

  it.each([
    ['a registry that does not exist', 'ghost'],
    ['itself', 'a'],
  ])('a fallback naming %s', async (_name, fallback) => {
    const text = json({ registries: [{ name: 'a', provider: 'static', host: 'a.example', fallback }] });
    expect(await refusal(text, 'registries.0.fallback', 7)).toMatch(new RegExp(`"${fallback}" names no other registry`));
  });
});
