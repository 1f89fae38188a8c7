/**
 * The config file's errors: `path:line:column: field: what is wrong`, in berth's words (never the
 * schema library's), pointing at the field itself.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { parseConfig } from '../../../core/config/schema.js';

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
