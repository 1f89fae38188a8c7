/**
 * @module
 * A one-shot process around the credential cache, for fault tests that must run berth's cache in
 * another mount namespace: `node cache-entry.mjs DIR put|get KEY [SECRET]`. Prints `ok`, the secret
 * or `miss`, or one line of error, and exits 0 or 1; the cache's warnings go to stderr.
 */
import { join } from 'node:path';
import { oneLine } from '../../../core/errors.js';
import { CACHE_KEY_FILE_NAME, openCredentialCache } from '../../../core/resolve/cache.js';

const [dir, action, key, secret] = process.argv.slice(2) as [string, string, string, string | undefined];
const warn = (line: string) => process.stderr.write(`berth: warning: ${line}\n`);
const cache = openCredentialCache({ dir, keyPath: join(dir, CACHE_KEY_FILE_NAME), now: Date.now, warn });
try {
  if (action === 'put') {
    await cache.put(key, { username: 'u', secret: secret ?? '', expiresAt: new Date(Date.now() + 3_600_000) });
    process.stdout.write('ok\n');
  } else {
    process.stdout.write(`${(await cache.get(key))?.secret ?? 'miss'}\n`);
  }
} catch (err) {
  process.stdout.write(`${oneLine(err)}\n`);
  process.exitCode = 1;
}
