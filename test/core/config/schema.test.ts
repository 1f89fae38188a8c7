/**
 * The config file's schema: what it accepts, and for what it refuses, which field and which line;
 * then the errors' words: `path:line:column: field: what is wrong`, never the schema library's.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { parseConfig } from '../../../core/config/schema.js';
import { PROVIDER_NAMES } from '../../../core/providers/index.js';

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
    ['a bad name', { name: 'no spaces', provider: 'static', host: 'h' }, 'registries[1].name', 9],
    ['an unknown provider', { name: 'x', provider: 'quay', host: 'h' }, 'registries[1].provider', 10],
    ['an empty host', { name: 'x', provider: 'static', host: '' }, 'registries[1].host', 11],
    ['an unknown registry field', { name: 'x', provider: 'static', host: 'h', region: 'eu' }, 'registries[1]: unknown field "region"', 12],
    ['an option that is a list', { name: 'x', provider: 'static', host: 'h', options: { a: [1] } }, 'registries[1].options.a', 13],
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
    expect(await refusal(text, 'registries[1].name', 9)).toMatch(/"a" is used twice/);
  });

  it('two defaults', async () => {
    const text = json({
      registries: [
        { name: 'a', provider: 'static', host: 'a.example', default: true },
        { name: 'b', provider: 'static', host: 'b.example', default: true },
      ],
    });
    expect(await refusal(text, 'registries[1].default', 13)).toMatch(/only one registry may be the default/);
  });

  it.each([
    ['a registry that does not exist', 'ghost'],
    ['itself', 'a'],
  ])('a fallback naming %s', async (_name, fallback) => {
    const text = json({ registries: [{ name: 'a', provider: 'static', host: 'a.example', fallback }] });
    expect(await refusal(text, 'registries[0].fallback', 7)).toMatch(new RegExp(`"${fallback}" names no other registry`));
  });
});

async function failure(text: string): Promise<UsageError> {
  const err = await parseConfig(text, 'config.json').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

const two = (second: string) => `{\n  "registries": [\n    { "name": "a", "provider": "ecr", "host": "h" },\n    { ${second} }\n  ]\n}\n`;

describe('parseConfig errors', () => {
  it.each([
    // A misspelt field is named at its own position, with the field it was meant to be.
    [
      two('"name": "b", "provider": "static", "hots": "x"'),
      'config.json:4:42: registries[1]: unknown field "hots"',
      /^did you mean "host"\? /,
    ],
    ['{"daemon": {"autostart": true}}', 'config.json:1:13: daemon: unknown field "autostart"', /^did you mean "autoStart"\? /],
    [
      '{"registry": []}',
      'config.json:1:2: unknown field "registry"',
      /^did you mean "registries"\? the fields here are store, registries, daemon$/,
    ],
    [two('"provider": "static", "host": "x"'), 'config.json:4:5: registries[1]: missing field "name"', undefined],
    [
      two('"name": "b", "provider": "ecs", "host": "x"'),
      'config.json:4:20: registries[1].provider: must be one of "ecr", "ecr-public", "google", "azure", "static", not "ecs"',
      undefined,
    ],
    ['{"store": "vault"}', 'config.json:1:2: store: must be one of "file", "keychain", "pass", not "vault"', undefined],
    ['{"registries": {}}', 'config.json:1:2: registries: must be a list, not an object', undefined],
    [
      two('"name": "b", "provider": "static", "host": "x", "default": "yes"'),
      'config.json:4:55: registries[1].default: must be a boolean, not "yes"',
      undefined,
    ],
    [
      two('"name": "b", "provider": "static", "host": "x", "options": {"user": ["u"]}'),
      'config.json:4:67: registries[1].options.user: must be a string, number or boolean, not a list',
      undefined,
    ],
    [
      two('"name": "b c", "provider": "static", "host": "x"'),
      'config.json:4:7: registries[1].name: must be letters, digits, ".", "_" or "-"',
      undefined,
    ],
  ])('%j', async (text, message, hint) => {
    const err = await failure(text);
    expect(err.message).toBe(message);
    expect(err.message).not.toMatch(/Invalid|Expected|never/);
    if (hint) expect(err.hint).toMatch(hint);
    else expect(err.hint).toBeUndefined();
  });

  it.each([
    ['{\n  "store": "file",\n}\n', 'config.json:2:18: not valid JSON: trailing comma'],
    ['{\n  "store" "file"\n}\n', 'config.json:2:11: not valid JSON: expected ":"'],
    ['// my registries\n{}\n', 'config.json:1:1: not valid JSON: comments are not allowed in JSON'],
    ['{"store": "file"', 'config.json:1:17: not valid JSON: expected "}"'],
    ['[]', 'config.json:1:1: expected an object with "store", "registries" or "daemon"'],
  ])('bad JSON at line and column, not a byte position: %j', async (text, message) => {
    expect((await failure(text)).message).toBe(message);
  });

  it('an empty file says so, with what an empty configuration is', async () => {
    const err = await failure('\n');
    expect(err.message).toBe('config.json: the file is empty');
    expect(err.hint).toBe('an empty configuration is {}');
  });

  it('names a duplicate name, a second default and a dangling fallback at their fields', async () => {
    expect((await failure(two('"name": "a", "provider": "static", "host": "x"'))).message).toBe(
      'config.json:4:7: registries[1].name: "a" is used twice',
    );
    expect((await failure(two('"name": "b", "provider": "static", "host": "x", "fallback": "zz"'))).message).toBe(
      'config.json:4:55: registries[1].fallback: "zz" names no other registry',
    );
  });
});
