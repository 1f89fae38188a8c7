/**
 * @module
 * The files container tools read credentials from: Docker's `config.json` (`{"auths":{…}}`), the
 * legacy `.dockercfg` (`{"<host>":{"auth","email"}}`), and Kubernetes image-pull Secrets of type
 * `kubernetes.io/dockerconfigjson` (key `.dockerconfigjson`) or `kubernetes.io/dockercfg` (key
 * `.dockercfg`). Docker Hub is keyed `https://index.docker.io/v1/`, as docker itself writes it.
 */
import { UsageError } from '../errors.js';
import { registryKey } from '../registry-host.js';

export const DOCKERCFG_FORMATS = ['config', 'dockercfg', 'k8s-secret', 'k8s-dockercfg-secret'] as const;
export type DockercfgFormat = (typeof DOCKERCFG_FORMATS)[number];

export const DEFAULT_SECRET_NAME = 'registry-credentials';

/** Legacy `.dockercfg` readers (docker < 1.7) insist on an email; nothing checks its value. */
const LEGACY_EMAIL = 'none';

export interface AuthEntry {
  /** Any spelling of the registry; written under its canonical key. */
  serverURL: string;
  username: string;
  secret: string;
}

export interface SecretOptions {
  secretName?: string;
  namespace?: string;
}

export function isDockercfgFormat(name: string): name is DockercfgFormat {
  return (DOCKERCFG_FORMATS as readonly string[]).includes(name);
}

/** The file's text (JSON, newline-terminated). */
export function formatDockercfg(entries: readonly AuthEntry[], format: DockercfgFormat, options: SecretOptions = {}): string {
  switch (format) {
    case 'config':
      return `${JSON.stringify(configJSON(entries), null, 2)}\n`;
    case 'dockercfg':
      return `${JSON.stringify(legacyJSON(entries), null, 2)}\n`;
    case 'k8s-secret':
      return secretManifest('kubernetes.io/dockerconfigjson', '.dockerconfigjson', JSON.stringify(configJSON(entries)), options);
    case 'k8s-dockercfg-secret':
      return secretManifest('kubernetes.io/dockercfg', '.dockercfg', JSON.stringify(legacyJSON(entries)), options);
  }
}

function basicAuth(entry: AuthEntry): string {
  return Buffer.from(`${entry.username}:${entry.secret}`, 'utf8').toString('base64');
}

function configJSON(entries: readonly AuthEntry[]): { auths: Record<string, { auth: string }> } {
  const auths: Record<string, { auth: string }> = Object.create(null);
  for (const entry of entries) auths[keyOf(entry)] = { auth: basicAuth(entry) };
  return { auths };
}

function legacyJSON(entries: readonly AuthEntry[]): Record<string, { auth: string; email: string }> {
  const legacy: Record<string, { auth: string; email: string }> = Object.create(null);
  for (const entry of entries) legacy[keyOf(entry)] = { auth: basicAuth(entry), email: LEGACY_EMAIL };
  return legacy;
}

function keyOf(entry: AuthEntry): string {
  const key = registryKey(entry.serverURL);
  if (key === '') throw new UsageError(`"${entry.serverURL}" names no registry`);
  return key;
}

/** A Secret manifest as JSON, which kubectl reads like YAML. */
function secretManifest(type: string, dataKey: string, payload: string, options: SecretOptions): string {
  const name = options.secretName ?? DEFAULT_SECRET_NAME;
  checkName(name, 'secret name', 253, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  const metadata: Record<string, string> = { name };
  if (options.namespace !== undefined) {
    checkName(options.namespace, 'namespace', 63, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    metadata.namespace = options.namespace;
  }
  const manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type,
    data: { [dataKey]: Buffer.from(payload, 'utf8').toString('base64') },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function checkName(value: string, what: string, maxLength: number, pattern: RegExp): void {
  if (value.length > maxLength || !pattern.test(value)) {
    throw new UsageError(`"${value}" is not a valid Kubernetes ${what}`, {
      hint: `use lower-case letters, digits${what === 'secret name' ? ', "-" and "."' : ' and "-"'} (at most ${maxLength} characters), e.g. ${DEFAULT_SECRET_NAME}`,
    });
  }
}
