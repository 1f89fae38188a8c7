/**
 * @module
 * The daemon as `berth daemon start` runs it, with the registry resolution chosen by the test:
 * `BERTH_TEST_PROVIDER=google` uses the real Google provider (pointed at the fake Google by the
 * test's HTTPS proxy), `ecr` the real ECR provider (the AWS SDK pointed at the fake AWS by
 * `AWS_ENDPOINT_URL_ECR`); otherwise registries resolve through the test's token service
 * (`BERTH_TEST_TOKEN_URL`). Retries come faster (`BERTH_TEST_BACKOFF_MS`). Bundled by the harness
 * with esbuild and run as its own process.
 */
import { NotFoundError, ProviderError } from '../../../core/errors.js';
import { ecrProvider } from '../../../core/providers/ecr.js';
import { googleProvider } from '../../../core/providers/google.js';
import type { Provider } from '../../../core/providers/provider.js';
import type { ResolveCredential } from '../../../core/resolve/refresh.js';
import { runForeground } from '../../../daemon/main.js';

const backoffMs = Number(process.env.BERTH_TEST_BACKOFF_MS ?? 1000);

const fromTokenService: ResolveCredential = async (registryHost) => {
  let response: Response;
  try {
    response = await fetch(`${process.env.BERTH_TEST_TOKEN_URL}/token?registry=${encodeURIComponent(registryHost)}`);
  } catch (err) {
    throw new ProviderError(`token service: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
  }
  if (response.status === 404) throw new NotFoundError();
  if (!response.ok) throw new ProviderError(`token service answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { username: string; secret: string; expiresAt: string };
  return { username: body.username, secret: body.secret, expiresAt: new Date(body.expiresAt) };
};

const fromProvider =
  (provider: Provider): ResolveCredential =>
  (registryHost) =>
    provider({ registryHost, options: {}, env: process.env, now: Date.now });

const resolvers: Record<string, ResolveCredential> = { google: fromProvider(googleProvider), ecr: fromProvider(ecrProvider) };

await runForeground({
  env: process.env,
  backoff: { baseMs: backoffMs, capMs: backoffMs * 5 },
  resolve: resolvers[process.env.BERTH_TEST_PROVIDER ?? ''] ?? fromTokenService,
});
