/**
 * @module
 * The part of an environment that decides which credentials providers find: the clouds' SDK
 * variables, proxies, berth's own, and every variable a configured registry names (`passwordEnv`,
 * `usernameEnv`). `berth daemon reload` sends this part of the caller's environment, and the
 * daemon replaces its own with it, so a variable unset in the shell is unset in the daemon too.
 */
import type { Config } from '../config/load.js';
import type { Env } from '../paths.js';

const PROVIDER_VARIABLE =
  /^(AWS_|AMAZON_|ECS_CONTAINER_|GOOGLE_|GCE_|GCLOUD_|CLOUDSDK_|AZURE_|IDENTITY_|MSI_|IMDS_|DOCKER_|BERTH_|ECR_)|^(HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR)$/;

/** The variables a configured registry reads by name. */
function namedVariables(config: Config): Set<string> {
  const names = new Set<string>();
  for (const registry of config.registries ?? []) {
    for (const [option, value] of Object.entries(registry.options ?? {})) {
      if (option.endsWith('Env') && typeof value === 'string') names.add(value);
    }
  }
  return names;
}

/** Does this variable decide which credentials a provider finds? */
export function isProviderVariable(name: string, config: Config): boolean {
  return PROVIDER_VARIABLE.test(name) || namedVariables(config).has(name);
}

/** The provider part of `env`. */
export function providerEnvironment(env: Env, config: Config): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && isProviderVariable(name, config)) picked[name] = value;
  }
  return picked;
}

/**
 * Replaces the provider part of `target` (the daemon's own environment) with `incoming`: variables
 * it lacks are removed, the rest of `target` (PATH, HOME…) stays. Returns the names that changed.
 */
export function replaceProviderEnvironment(
  target: Record<string, string | undefined>,
  incoming: Readonly<Record<string, string>>,
  config: Config,
): string[] {
  const changed: string[] = [];
  for (const name of Object.keys(target)) {
    if (isProviderVariable(name, config) && !(name in incoming)) {
      delete target[name];
      changed.push(name);
    }
  }
  for (const [name, value] of Object.entries(incoming)) {
    if (!isProviderVariable(name, config)) continue; // PATH, HOME… stay the daemon's own
    if (target[name] !== value) {
      target[name] = value;
      changed.push(name);
    }
  }
  return changed;
}
