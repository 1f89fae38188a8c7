/**
 * @module
 * Every provider's name, and nothing else: what the config file's quick check reads, so the
 * helper's start-up does not build the registration table (./index.ts, which must hold exactly
 * these names) to open the store.
 */
export const PROVIDER_NAMES = ['ecr', 'ecr-public', 'google', 'azure', 'static'] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];
