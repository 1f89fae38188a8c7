/**
 * @module
 * The daemon as `berth daemon start` runs it, with one difference: registries resolve through the
 * test's token service (`BERTH_TEST_TOKEN_URL`) instead of a cloud, and retries come faster
 * (`BERTH_TEST_BACKOFF_MS`). Bundled by the harness with esbuild and run as its own process.
 */
import { NotFoundError, ProviderError } from '../../../core/errors.js';
import { runForeground } from '../../../daemon/main.js';

const tokenURL = process.env.BERTH_TEST_TOKEN_URL ?? '';
const backoffMs = Number(process.env.BERTH_TEST_BACKOFF_MS ?? 1000);

await runForeground({
  env: process.env,
  backoff: { baseMs: backoffMs, capMs: backoffMs * 5 },
  resolve: async (registryHost) => {
    let response: Response;
    try {
      response = await fetch(`${tokenURL}/token?registry=${encodeURIComponent(registryHost)}`);
    } catch (err) {
      throw new ProviderError(`token service: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
    }
    if (response.status === 404) throw new NotFoundError();
    if (!response.ok) throw new ProviderError(`token service answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { username: string; secret: string; expiresAt: string };
    return { username: body.username, secret: body.secret, expiresAt: new Date(body.expiresAt) };
  },
});
