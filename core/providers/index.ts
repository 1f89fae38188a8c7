/**
 * @module
 * The registration table: one line per provider, its name, its file (loaded lazily: a cloud's SDK is
 * imported only when a registry that uses it is resolved, so the helper's `get` for a stored
 * registry never pays for it) and, for a cloud, how its registry hosts are recognised without any
 * configuration (pure host parsing from hosts.ts). Every list of provider names (the config
 * schema, the generator's BERTH_PROVIDER, `berth registries add`) comes from this table. Adding a
 * provider is one file in this folder and one line here.
 */
import { isEcrPublicHost, parseAcrHost, parseEcrHost, parseGoogleHost } from './hosts.js';
import type { ProviderModule } from './provider.js';

export type { ProviderModule } from './provider.js';

export type ProviderLoader = () => Promise<ProviderModule>;

interface Registration {
  load: ProviderLoader;
  /** True for a server URL this provider serves with no configuration (a cloud registry host). */
  recognises?: (serverURL: string) => boolean;
}

/** A provider file's default export, loaded on first use. */
const lazy =
  (load: () => Promise<{ default: ProviderModule }>): ProviderLoader =>
  async () =>
    (await load()).default;

// Order matters only for detection: the first provider that recognises a host serves it.
const REGISTRATIONS = {
  ecr: { load: lazy(() => import('./ecr.js')), recognises: (url) => parseEcrHost(url) !== undefined },
  'ecr-public': { load: lazy(() => import('./ecr-public.js')), recognises: isEcrPublicHost },
  google: { load: lazy(() => import('./google.js')), recognises: (url) => parseGoogleHost(url) !== undefined },
  azure: { load: lazy(() => import('./azure.js')), recognises: (url) => parseAcrHost(url) !== undefined },
  static: { load: lazy(() => import('./static.js')) },
} satisfies Record<string, Registration>;

export type ProviderName = keyof typeof REGISTRATIONS;

export const PROVIDER_NAMES = Object.keys(REGISTRATIONS) as ProviderName[];

export const PROVIDERS: Readonly<Record<ProviderName, ProviderLoader>> = Object.fromEntries(
  Object.entries(REGISTRATIONS).map(([name, registration]) => [name, registration.load]),
) as Record<ProviderName, ProviderLoader>;

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(REGISTRATIONS, name);
}

/** The cloud whose provider can mint a token for this server URL, from its host alone; else undefined. */
export function detectProvider(serverURL: string): ProviderName | undefined {
  for (const name of PROVIDER_NAMES) {
    const registration: Registration = REGISTRATIONS[name];
    if (registration.recognises?.(serverURL)) return name;
  }
  return undefined;
}
