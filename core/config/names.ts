/** @module The names a config file may use for providers and stores; no schema library here. */
export const PROVIDER_NAMES = ['ecr', 'ecr-public', 'google', 'azure', 'static'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The stores the config file's `store` may name (core/store/store.ts has the same list). */
export const CONFIG_STORE_NAMES = ['file', 'keychain', 'pass'] as const;
