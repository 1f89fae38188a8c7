/**
 * @module
 * The generator images' only input: environment variables. The SDKs' own variables (AWS_*,
 * GOOGLE_APPLICATION_CREDENTIALS, AZURE_*) reach the providers untouched; this file maps the
 * Codeship names and berth's own into registry configurations, and names the variable when one
 * that is needed is missing.
 */
import type { RegistryConfig } from '../core/config/load.js';
import { PROVIDER_NAMES, isProviderName, type ProviderName } from '../core/providers/index.js';
import { DOCKERCFG_FORMATS, isDockercfgFormat, type DockercfgFormat } from '../core/dockercfg/formats.js';
import { UsageError } from '../core/errors.js';
import type { Env } from '../core/paths.js';
import { DOCKER_HUB_KEY, registryHost } from '../core/registry-host.js';

export interface GeneratorPlan {
  registries: RegistryConfig[];
  format: DockercfgFormat;
  cacheDir?: string;
  secretName?: string;
  namespace?: string;
}

const GCR_HOSTS = ['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io'];

/** A variable the generator needs is not set; the message names it. */
export class MissingVariableError extends UsageError {
  override name = 'MissingVariableError';
  constructor(variable: string, why: string) {
    super(`${variable} is not set: ${why}`);
  }
}

function value(env: Env, name: string): string | undefined {
  const text = env[name]?.trim();
  return text ? text : undefined;
}

function required(env: Env, name: string, why: string): string {
  const text = value(env, name);
  if (text === undefined) throw new MissingVariableError(name, why);
  return text;
}

function hostList(env: Env): string[] | undefined {
  const hosts = value(env, 'BERTH_REGISTRIES')
    ?.split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  return hosts && hosts.length > 0 ? hosts : undefined;
}

/** Which provider this image runs: `BERTH_PROVIDER` (set by single-cloud images), `ECR_PUBLIC` for ECR Public. */
export function providerFromEnv(env: Env): ProviderName | 'auto' {
  const named = value(env, 'BERTH_PROVIDER');
  if (named === undefined || named === 'auto') return 'auto';
  if (!isProviderName(named)) {
    throw new UsageError(`BERTH_PROVIDER=${named} is not a provider`, { hint: `use one of ${PROVIDER_NAMES.join(', ')}, or auto` });
  }
  if (named === 'ecr' && isTrue(value(env, 'ECR_PUBLIC'))) return 'ecr-public';
  return named;
}

function isTrue(text: string | undefined): boolean {
  return text !== undefined && /^(1|true|yes|on)$/i.test(text);
}

/** Reads the plan; throws MissingVariableError or UsageError naming the variable. */
export function planFromEnv(env: Env, detect: (host: string) => ProviderName | undefined): GeneratorPlan {
  const format = value(env, 'BERTH_FORMAT') ?? 'config';
  if (!isDockercfgFormat(format)) {
    throw new UsageError(`BERTH_FORMAT=${format} is not a format; use one of ${DOCKERCFG_FORMATS.join(', ')}`);
  }
  const provider = providerFromEnv(env);
  const registries = provider === 'auto' ? autoRegistries(env, detect) : registriesFor(provider, env, hostList(env));
  return {
    registries,
    format,
    cacheDir: value(env, 'BERTH_CACHE_DIR'),
    secretName: value(env, 'BERTH_SECRET_NAME'),
    namespace: value(env, 'BERTH_NAMESPACE'),
  };
}

/** The multi-cloud image: each host in BERTH_REGISTRIES by its cloud, other hosts static. */
function autoRegistries(env: Env, detect: (host: string) => ProviderName | undefined): RegistryConfig[] {
  const hosts = hostList(env);
  if (hosts === undefined) {
    if (value(env, 'DOCKER_USERNAME') !== undefined) return registriesFor('static', env, undefined);
    throw new MissingVariableError('BERTH_REGISTRIES', 'name the registry hosts to write (comma-separated), or set BERTH_PROVIDER');
  }
  return hosts.flatMap((host) => registriesFor(detect(host) ?? 'static', env, [host]));
}

function registriesFor(provider: ProviderName, env: Env, hosts: string[] | undefined): RegistryConfig[] {
  checkVariables(provider, env);
  const chosen = hosts ?? defaultHosts(provider, env);
  // No options: each provider reads its own variables (AWS_STS_ROLE, GOOGLE_AUTH_JSON, DOCKER_PASSWORD…).
  return chosen.map((host) => ({ name: registryHost(host) || host, provider, host }));
}

/** Variables without which a provider cannot work at all: named before any cloud is asked. */
function checkVariables(provider: ProviderName, env: Env): void {
  if (provider === 'static') {
    required(env, 'DOCKER_USERNAME', 'the registry user name');
    required(env, 'DOCKER_PASSWORD', 'the registry password or access token');
  }
}

function defaultHosts(provider: ProviderName, env: Env): string[] {
  switch (provider) {
    case 'ecr': {
      const account = value(env, 'AWS_ACCOUNT_ID') ?? value(env, 'AWS_STS_ACCOUNT');
      if (account === undefined) {
        throw new MissingVariableError('BERTH_REGISTRIES', 'name the ECR registry host, or set AWS_ACCOUNT_ID and AWS_REGION');
      }
      const region = value(env, 'AWS_REGION') ?? value(env, 'AWS_DEFAULT_REGION');
      if (region === undefined) throw new MissingVariableError('AWS_REGION', 'the region of the ECR registry, e.g. us-east-1');
      return [`${account}.dkr.ecr.${region}.amazonaws.com`];
    }
    case 'ecr-public':
      return ['public.ecr.aws'];
    case 'google': {
      const location = value(env, 'GOOGLE_LOCATION');
      return location === undefined ? GCR_HOSTS : [`${location}-docker.pkg.dev`];
    }
    case 'static':
      return [value(env, 'DOCKER_REGISTRY') ?? DOCKER_HUB_KEY];
    case 'azure':
      throw new MissingVariableError('BERTH_REGISTRIES', 'name the Azure registry, e.g. myregistry.azurecr.io');
    default:
      // A provider with no conventional variables for its host: the registries are named.
      throw new MissingVariableError('BERTH_REGISTRIES', `name the ${provider} registry hosts (comma-separated)`);
  }
}
