/**
 * @module
 * The static provider: a fixed username and password or token for any registry (Docker Hub, GHCR,
 * Quay robots, Artifactory…). The secret comes from an environment variable or a file the config
 * names, never from the config file itself; the credential does not expire.
 */
import { readFileSync } from 'node:fs';
import { ProviderError } from '../errors.js';
import type { Env } from '../paths.js';
import type { Credential, ProviderModule, ProviderRequest } from './provider.js';

/** The variable names the Codeship static generator used; the defaults here. */
export const DEFAULT_USERNAME_ENV = 'DOCKER_USERNAME';
export const DEFAULT_PASSWORD_ENV = 'DOCKER_PASSWORD';

/** Option names that would put a secret in the config file. */
const INLINE_SECRET_OPTIONS = ['password', 'secret', 'token'];

type Options = ProviderRequest['options'];

/**
 * Options: `username` (literal) or `usernameEnv` (variable name, default DOCKER_USERNAME);
 * `passwordEnv` (variable name, default DOCKER_PASSWORD) or `passwordFile` (path to a file).
 */
export async function staticProvider(request: ProviderRequest): Promise<Credential> {
  const { options, env } = request;
  const inline = INLINE_SECRET_OPTIONS.find((name) => name in options);
  if (inline !== undefined) {
    throw new ProviderError(`option "${inline}" would keep a secret in the config file`, {
      hint: 'put the secret in an environment variable and name it with "passwordEnv", or in a file named by "passwordFile"',
    });
  }
  return { username: username(options, env), secret: secret(options, env) };
}

function username(options: Options, env: Env): string {
  if (options.username !== undefined) return String(options.username);
  return fromEnv(stringOption(options, 'usernameEnv') ?? DEFAULT_USERNAME_ENV, env, 'username');
}

function secret(options: Options, env: Env): string {
  const file = stringOption(options, 'passwordFile');
  if (file !== undefined) return fromFile(file);
  return fromEnv(stringOption(options, 'passwordEnv') ?? DEFAULT_PASSWORD_ENV, env, 'password');
}

function stringOption(options: Options, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new ProviderError(`option "${name}" must be a non-empty string`);
  }
  return value;
}

function fromEnv(variable: string, env: Env, what: string): string {
  const value = env[variable];
  if (value === undefined || value === '') {
    throw new ProviderError(`${what} variable ${variable} is ${value === undefined ? 'not set' : 'empty'}`, {
      hint: `export ${variable}, or name another variable with the registry's "${what}Env" option`,
    });
  }
  return value;
}

/** A mounted secret file; one trailing newline (as `echo` and editors leave) is not part of it. */
function fromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProviderError(`cannot read password file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ProviderError(`password file ${path} is empty`);
  return value;
}

/** What the registration table (./index.ts) loads. */
export default { provider: staticProvider } satisfies ProviderModule;
