/**
 * @module
 * Entry of the child process that tests run a provider in, so the real SDKs see the environment a
 * user's process would (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, the cloud variables). argv: provider name,
 * then the request as JSON `{registryHost, options}`. Prints the credential, or the error, as JSON.
 */
import { BerthError } from '../../core/errors.js';
import { azureProvider } from '../../core/providers/azure.js';
import { googleProvider } from '../../core/providers/google.js';
import type { Provider } from '../../core/providers/provider.js';
import { staticProvider } from '../../core/providers/static.js';

const PROVIDERS: Record<string, Provider> = { google: googleProvider, azure: azureProvider, static: staticProvider };

async function main(): Promise<void> {
  const [name = '', requestJson = '{}'] = process.argv.slice(2);
  const provider = PROVIDERS[name];
  if (!provider) throw new Error(`unknown provider ${name}`);
  const { registryHost, options = {} } = JSON.parse(requestJson) as { registryHost: string; options?: Record<string, string> };
  try {
    const credential = await provider({ registryHost, options, env: process.env, now: Date.now });
    process.stdout.write(`${JSON.stringify({ credential })}\n`);
  } catch (err) {
    const error = err as Error;
    const hint = err instanceof BerthError ? err.hint : undefined;
    process.stdout.write(`${JSON.stringify({ error: { name: error.name, message: error.message, hint } })}\n`);
    process.exitCode = 1;
  }
}

await main();
