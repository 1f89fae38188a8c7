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
  /**
   * No host and no account given (only AWS_REGION and keys, as Codeship's ECR image took): ask ECR
   * in this region for the caller's own registry, and write that one.
   */
  discoverEcrIn?: string;
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
  if (named === 'ecr' && ecrPublic(env)) return 'ecr-public';
  return named;
}

/** Codeship's image switched to ECR Public when `ECR_PUBLIC` was set at all; an explicit false does not. */
function ecrPublic(env: Env): boolean {
  const text = env.ECR_PUBLIC;
  return text !== undefined && !/^(0|false|no|off)$/i.test(text.trim());
}

/** Reads the plan; throws MissingVariableError or UsageError naming the variable. */
export function planFromEnv(env: Env, detect: (host: string) => ProviderName | undefined): GeneratorPlan {
  const format = value(env, 'BERTH_FORMAT') ?? 'config';
  if (!isDockercfgFormat(format)) {
    throw new UsageError(`BERTH_FORMAT=${format} is not a format; use one of ${DOCKERCFG_FORMATS.join(', ')}`);
  }
  const provider = providerFromEnv(env);
  const hosts = hostList(env);
  if (provider === 'ecr' && hosts === undefined && ecrAccounts(env).length === 0) {
    checkVariables('ecr', env);
    return { ...options(env, format), registries: [], discoverEcrIn: ecrRegion(env) };
  }
  const registries = provider === 'auto' ? autoRegistries(env, detect) : registriesFor(provider, env, hosts);
  return { ...options(env, format), registries };
}

function options(env: Env, format: DockercfgFormat): Omit<GeneratorPlan, 'registries'> {
  return {
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
    // codeship/dockercfg-generator's variables, any of them: a static login (which names what is missing)
    if (['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_REGISTRY'].some((name) => value(env, name) !== undefined)) {
      return registriesFor('static', env, undefined);
    }
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
  if (provider === 'ecr' || provider === 'ecr-public') checkAwsVariables(env);
  if (provider === 'google') checkGoogleVariables(env);
}

/** Codeship's pairs: a key id needs its secret, a role name needs its account (and the other way round). */
function checkAwsVariables(env: Env): void {
  if (value(env, 'AWS_ACCESS_KEY_ID') !== undefined) required(env, 'AWS_SECRET_ACCESS_KEY', 'the secret of AWS_ACCESS_KEY_ID');
  if (value(env, 'AWS_SECRET_ACCESS_KEY') !== undefined) required(env, 'AWS_ACCESS_KEY_ID', 'the access key id of AWS_SECRET_ACCESS_KEY');
  const role = value(env, 'AWS_STS_ROLE');
  if (role !== undefined && !role.startsWith('arn:')) required(env, 'AWS_STS_ACCOUNT', `the 12-digit account role "${role}" is in`);
  if (value(env, 'AWS_STS_ACCOUNT') !== undefined) required(env, 'AWS_STS_ROLE', 'the role to assume in AWS_STS_ACCOUNT');
}

/**
 * Codeship's Google image took the key JSON, its account's email and the project together; berth
 * also takes GOOGLE_AUTH_JSON alone, a key file or ADC. The email must be the key's, as gcloud checks.
 */
function checkGoogleVariables(env: Env): void {
  const email = value(env, 'GOOGLE_AUTH_EMAIL');
  if (email === undefined && value(env, 'GOOGLE_PROJECT_ID') === undefined) return;
  const json = required(env, 'GOOGLE_AUTH_JSON', 'the service account key JSON, merged onto one line');
  const checkedEmail = required(env, 'GOOGLE_AUTH_EMAIL', 'the email of the service account in GOOGLE_AUTH_JSON');
  required(env, 'GOOGLE_PROJECT_ID', 'the ID of the Google Cloud project');
  const keyEmail = clientEmailOf(json);
  if (keyEmail !== undefined && keyEmail !== checkedEmail) {
    throw new UsageError(`GOOGLE_AUTH_EMAIL is ${checkedEmail} but the key in GOOGLE_AUTH_JSON is for ${keyEmail}`);
  }
}

function clientEmailOf(json: string): string | undefined {
  const text = json.startsWith('{') ? json : Buffer.from(json, 'base64').toString('utf8');
  try {
    const email = (JSON.parse(text) as { client_email?: unknown }).client_email;
    return typeof email === 'string' ? email : undefined;
  } catch {
    return undefined; // the provider names a key that is not JSON
  }
}

function ecrRegion(env: Env): string {
  const region = value(env, 'AWS_REGION') ?? value(env, 'AWS_DEFAULT_REGION');
  if (region === undefined) throw new MissingVariableError('AWS_REGION', 'the region of the ECR registry, e.g. us-east-1');
  return region;
}

/**
 * The accounts whose registries to write: `AWS_ECR_REGISTRY_IDS` (Codeship's older, space-separated
 * list), else `AWS_ACCOUNT_ID`, else the account of `AWS_STS_ACCOUNT`'s role.
 */
function ecrAccounts(env: Env): string[] {
  const ids = value(env, 'AWS_ECR_REGISTRY_IDS')
    ?.split(/[\s,]+/)
    .filter(Boolean);
  if (ids && ids.length > 0) {
    const bad = ids.find((id) => !/^\d{12}$/.test(id));
    if (bad !== undefined) throw new UsageError(`AWS_ECR_REGISTRY_IDS: "${bad}" is not a 12-digit AWS account id`);
    return ids;
  }
  const account = value(env, 'AWS_ACCOUNT_ID') ?? value(env, 'AWS_STS_ACCOUNT');
  return account === undefined ? [] : [account];
}

function defaultHosts(provider: ProviderName, env: Env): string[] {
  switch (provider) {
    case 'ecr': {
      const region = ecrRegion(env);
      const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
      return ecrAccounts(env).map((account) => `${account}.dkr.ecr.${region}.${domain}`);
    }
    case 'ecr-public':
      return ['public.ecr.aws'];
    case 'google': {
      // As Codeship's image: the gcr.io hosts, and Artifact Registry in GOOGLE_LOCATION.
      const location = value(env, 'GOOGLE_LOCATION');
      return location === undefined ? GCR_HOSTS : [...GCR_HOSTS, `${location}-docker.pkg.dev`];
    }
    case 'static': {
      const host = value(env, 'DOCKER_REGISTRY') ?? DOCKER_HUB_KEY;
      if (host.includes(',')) {
        throw new UsageError(`DOCKER_REGISTRY=${host} names more than one registry`, { hint: 'name several hosts in BERTH_REGISTRIES' });
      }
      return [host];
    }
    case 'azure':
      throw new MissingVariableError('BERTH_REGISTRIES', 'name the Azure registry, e.g. myregistry.azurecr.io');
    default:
      // A provider with no conventional variables for its host: the registries are named.
      throw new MissingVariableError('BERTH_REGISTRIES', `name the ${provider} registry hosts (comma-separated)`);
  }
}
