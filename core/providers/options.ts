/**
 * @module
 * Checking a registry's `options` and host against its provider's declaration (the `spec` of its
 * registration in ./index.ts) before `berth registries add` writes anything, and listing every
 * provider's options in its help. Pure string checks, no SDK. A value that
 * looks like a secret is refused everywhere: the config file is not a secret store, the `…Env` and
 * `…File` options name where the secret is instead.
 */
import { ArgumentError } from '../errors.js';
import { registryHost, registryKey } from '../registry-host.js';
import { foreignHostReason, isCloudProvider } from './hosts.js';
import { PROVIDER_SPECS, type ProviderName } from './index.js';
import type { OptionSpec } from './provider.js';
import { editDistance } from '../io/edit-distance.js';

/** Option names that say "this is the secret itself". */
const SECRET_NAME = /pass(word)?|secret|token|credential|apikey|api_key/i;
/** Values shaped like well-known tokens and keys. */
const SECRET_VALUE = [
  /^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}$/,
  /^github_pat_[A-Za-z0-9_]{20,}$/,
  /^dckr_(pat|oat)_[A-Za-z0-9_-]{10,}$/,
  /^glpat-[A-Za-z0-9_-]{10,}$/,
  /^(AKIA|ASIA)[A-Z0-9]{16}$/,
  /^AIza[A-Za-z0-9_-]{30,}$/,
  /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./, // a JWT
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

function looksSecret(value: string): boolean {
  return SECRET_VALUE.some((pattern) => pattern.test(value));
}

/** The declared option closest to a misspelt name (same letters ignoring case, or one edit away). */
function closest(name: string, specs: readonly OptionSpec[]): string | undefined {
  const lower = name.toLowerCase();
  return (
    specs.find((spec) => spec.name.toLowerCase() === lower)?.name ??
    specs.find((spec) => editDistance(spec.name.toLowerCase(), lower) <= 2)?.name
  );
}

/**
 * Checks and types a registry's options for its provider (`KEY=VALUE` text from the command line):
 * unknown names are refused with the list, booleans become booleans, secrets are refused.
 */
export function checkOptions(provider: ProviderName, raw: readonly [string, string][]): Record<string, string | boolean> {
  const spec = PROVIDER_SPECS[provider];
  const names = spec.options.map((option) => option.name).join(', ');
  const options: Record<string, string | boolean> = {};
  for (const [name, value] of raw) {
    const declared = spec.options.find((option) => option.name === name);
    if (!declared) {
      if (SECRET_NAME.test(name) && !/(Env|File)$/.test(name)) throw secretRefused(provider, name);
      const guess = closest(name, spec.options);
      throw new ArgumentError(`${provider} has no option "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}`, {
        hint: `${provider} takes: ${names}`,
      });
    }
    if (looksSecret(value)) throw secretRefused(provider, name);
    if (declared.type === 'boolean') {
      if (value !== 'true' && value !== 'false')
        throw new ArgumentError(`option "${name}" of ${provider} is true or false, not "${value}"`);
      options[name] = value === 'true';
      continue;
    }
    if (value === '') throw new ArgumentError(`option "${name}" of ${provider} must not be empty`);
    if (name.endsWith('Env') && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      throw new ArgumentError(`option "${name}" names an environment variable, and "${value}" is not a variable name`, {
        hint: `e.g. -o ${name}=${name === 'usernameEnv' ? 'REGISTRY_USER' : 'REGISTRY_TOKEN'}`,
      });
    }
    options[name] = value;
  }
  for (const option of spec.options) {
    if (option.required && options[option.name] === undefined) {
      throw new ArgumentError(`${provider} needs option "${option.name}"`, { hint: `-o ${option.name}=…: ${option.description}` });
    }
  }
  return options;
}

function secretRefused(provider: ProviderName, name: string): ArgumentError {
  const where =
    provider === 'static' ? 'name the variable with passwordEnv, or the file with passwordFile' : 'pass it through the environment instead';
  return new ArgumentError(`option "${name}" would keep a secret in the config file; berth refuses it`, { hint: where });
}

/**
 * Refuses a host the provider cannot serve, with the provider's own verdict (./hosts.ts), so what
 * `registries add` refuses is exactly what the provider would refuse at resolve time.
 */
export function checkHost(provider: ProviderName, host: string, options: Readonly<Record<string, unknown>>): void {
  const key = registryKey(host);
  if (key === '') throw new ArgumentError(`--host "${host}" names no registry`, { hint: 'e.g. --host ghcr.io' });
  if (!isCloudProvider(provider)) return;
  const refused = foreignHostReason(provider, registryHost(host), options);
  if (!refused) return;
  throw new ArgumentError(refused.message, refused.hint ? { hint: refused.hint } : {});
}

/** Every provider's hosts and options, for `berth registries add --help`. */
export function describeProviders(): string {
  const lines: string[] = [];
  const label = (option: OptionSpec) => `-o ${option.name}=${option.type === 'boolean' ? 'true' : '…'}`;
  const width = Math.max(...Object.values(PROVIDER_SPECS).flatMap((spec) => spec.options.map((option) => label(option).length)));
  for (const [name, spec] of Object.entries(PROVIDER_SPECS)) {
    lines.push(`  ${name}: ${spec.hosts}`);
    for (const option of spec.options) lines.push(`    ${label(option).padEnd(width)}  ${option.description}`);
  }
  return lines.join('\n');
}
