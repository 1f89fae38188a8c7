/**
 * @module
 * The registration table: one line per provider, its name, its file (loaded lazily: a cloud's SDK is
 * imported only when a registry that uses it is resolved, so the helper's `get` for a stored
 * registry never pays for it) and, for a cloud, how its registry hosts are recognised without any
 * configuration (pure host parsing from hosts.ts). Every list of provider names (the config
 * schema, the generator's BERTH_PROVIDER, `berth registries add` and its option checks) comes from
 * this table. Adding a provider is one file in this folder and one entry here.
 */
import { AWS_OPTIONS } from './aws-settings.js';
import { ALLOW_ANY_HOST, isEcrPublicHost, parseAcrHost, parseEcrHost, parseGoogleHost } from './hosts.js';
import { PROVIDER_NAMES, type ProviderName } from './names.js';
import type { OptionSpec, ProviderModule, ProviderSpec } from './provider.js';

export { PROVIDER_NAMES, type ProviderName } from './names.js';

export type { ProviderModule } from './provider.js';

export type ProviderLoader = () => Promise<ProviderModule>;

interface Registration {
  load: ProviderLoader;
  /** True for a server URL this provider serves with no configuration (a cloud registry host). */
  recognises?: (serverURL: string) => boolean;
  /** Its hosts and options, which `berth registries add` checks and lists (./options.ts). */
  spec: ProviderSpec;
}

/** A provider file's default export, loaded on first use. */
const lazy =
  (load: () => Promise<{ default: ProviderModule }>): ProviderLoader =>
  async () =>
    (await load()).default;

/** Google and Azure serve a host their parser does not accept only with this option (./hosts.ts). */
const ALLOW_ANY_HOST_OPTION: OptionSpec = {
  name: ALLOW_ANY_HOST,
  type: 'boolean',
  description: "send this cloud's token to another host: only a proxy in front of the real registry",
};

// One entry per provider named in ./names.ts, in that order. Order matters only for detection: the
// first provider that recognises a host serves it.
const REGISTRATIONS: Record<ProviderName, Registration> = {
  ecr: {
    load: lazy(() => import('./ecr.js')),
    recognises: (url) => parseEcrHost(url) !== undefined,
    spec: {
      hosts: '<account>.dkr.ecr.<region>.amazonaws.com (and the FIPS, dual-stack, China and ISO forms)',
      options: AWS_OPTIONS.ecr,
    },
  },
  'ecr-public': {
    load: lazy(() => import('./ecr-public.js')),
    recognises: isEcrPublicHost,
    spec: { hosts: 'public.ecr.aws, ecr-public.aws.com', options: AWS_OPTIONS['ecr-public'] },
  },
  google: {
    load: lazy(() => import('./google.js')),
    recognises: (url) => parseGoogleHost(url) !== undefined,
    spec: {
      hosts: 'gcr.io, {us,eu,asia}.gcr.io, <location>-docker.pkg.dev, docker.<region>.rep.pkg.dev',
      options: [{ name: 'keyFile', type: 'string', description: 'service account key file (default: ADC)' }, ALLOW_ANY_HOST_OPTION],
    },
  },
  azure: {
    load: lazy(() => import('./azure.js')),
    recognises: (url) => parseAcrHost(url) !== undefined,
    spec: {
      hosts: '<name>.azurecr.io (.cn, .us, .de)',
      options: [
        { name: 'tenantId', type: 'string', description: 'Entra tenant (default AZURE_TENANT_ID)' },
        { name: 'clientId', type: 'string', description: 'app or managed identity client id (default AZURE_CLIENT_ID)' },
        { name: 'authorityHost', type: 'string', description: "Entra endpoint (default: the registry cloud's)" },
        { name: 'scope', type: 'string', description: 'token scope (default https://containerregistry.azure.net/.default)' },
        ALLOW_ANY_HOST_OPTION,
      ],
    },
  },
  static: {
    load: lazy(() => import('./static.js')),
    spec: {
      hosts: 'any registry',
      options: [
        { name: 'username', type: 'string', description: 'the user name itself' },
        { name: 'usernameEnv', type: 'string', description: 'variable holding the user name (default DOCKER_USERNAME)' },
        { name: 'passwordEnv', type: 'string', description: 'variable holding the password or token (default DOCKER_PASSWORD)' },
        { name: 'passwordFile', type: 'string', description: 'file holding the password or token' },
      ],
    },
  },
};

/** One field of every registration, by provider name. */
function byName<T>(field: (registration: Registration) => T): Readonly<Record<ProviderName, T>> {
  const table: Partial<Record<ProviderName, T>> = {};
  for (const name of PROVIDER_NAMES) table[name] = field(REGISTRATIONS[name]);
  return table as Record<ProviderName, T>;
}

export const PROVIDERS: Readonly<Record<ProviderName, ProviderLoader>> = byName((registration) => registration.load);

export const PROVIDER_SPECS: Readonly<Record<ProviderName, ProviderSpec>> = byName((registration) => registration.spec);

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(REGISTRATIONS, name);
}

/** The cloud whose provider can mint a token for this server URL, from its host alone; else undefined. */
export function detectProvider(serverURL: string): ProviderName | undefined {
  for (const name of PROVIDER_NAMES) {
    if (REGISTRATIONS[name].recognises?.(serverURL)) return name;
  }
  return undefined;
}
