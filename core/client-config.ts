/** @module docker's and containers/image's config files (placeholder). */
import type { Env } from './paths.js';

export async function addRegistryIfConfigured(_env: Env, _registryKey: string): Promise<void> {}
