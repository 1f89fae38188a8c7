/**
 * @module
 * The kubelet's image credential provider protocol (`credentialprovider.kubelet.k8s.io/v1` and
 * `v1beta1`), pure: parse one `CredentialProviderRequest`, name the registry of its image, and
 * build the `CredentialProviderResponse` (same `apiVersion`, `cacheKeyType: Registry` or, for a
 * registry that serves one repository prefix of its host, `Image`, a Go
 * duration for `cacheDuration`). Resolving the credential is the caller's (cli/commands/kube.ts).
 */
import { UsageError } from '../errors.js';

export const API_VERSIONS = ['credentialprovider.kubelet.k8s.io/v1', 'credentialprovider.kubelet.k8s.io/v1beta1'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export interface CredentialProviderRequest {
  apiVersion: ApiVersion;
  image: string;
  /** Kubernetes 1.33+, with `tokenAttributes` in the provider's config: the pod's service account token. */
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface AuthConfig {
  username: string;
  password: string;
}

export interface CredentialProviderResponse {
  kind: 'CredentialProviderResponse';
  apiVersion: ApiVersion;
  /** Per host; per image when the credential serves only a repository prefix of its host. */
  cacheKeyType: 'Registry' | 'Image';
  cacheDuration?: string;
  auth: Record<string, AuthConfig>;
}

/** The part of a token's life the kubelet may cache it for: all but a margin (30 min at most, 25 % of what is left). */
const MAX_MARGIN_MS = 30 * 60_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and checks the request text; every refusal is one UsageError line. */
export function parseRequest(text: string): CredentialProviderRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('stdin is not a JSON CredentialProviderRequest');
  }
  if (!isRecord(value)) throw new UsageError('stdin is not a JSON object');
  const { apiVersion, kind, image, serviceAccountToken, serviceAccountAnnotations } = value;
  if (typeof apiVersion !== 'string' || !(API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new UsageError(`unsupported apiVersion ${JSON.stringify(apiVersion ?? null)}: expected one of ${API_VERSIONS.join(', ')}`);
  }
  if (kind !== 'CredentialProviderRequest')
    throw new UsageError(`kind is ${JSON.stringify(kind ?? null)}, not "CredentialProviderRequest"`);
  if (typeof image !== 'string' || image.trim() === '') throw new UsageError('the request has no "image"');
  const request: CredentialProviderRequest = { apiVersion: apiVersion as ApiVersion, image: image.trim() };
  if (serviceAccountToken !== undefined && serviceAccountToken !== '') {
    if (typeof serviceAccountToken !== 'string') throw new UsageError('"serviceAccountToken" is not a string');
    request.serviceAccountToken = serviceAccountToken;
  }
  if (serviceAccountAnnotations !== undefined && serviceAccountAnnotations !== null) {
    if (!isRecord(serviceAccountAnnotations) || Object.values(serviceAccountAnnotations).some((v) => typeof v !== 'string')) {
      throw new UsageError('"serviceAccountAnnotations" is not a map of strings');
    }
    request.serviceAccountAnnotations = serviceAccountAnnotations as Record<string, string>;
  }
  return request;
}

/**
 * The registry host of an image reference, as docker's reference grammar reads it: the first path
 * component is a host when it has a `.` or a `:` or is `localhost`; otherwise the image is on
 * Docker Hub (`docker.io`).
 */
export function imageRegistryHost(image: string): string {
  return splitImage(image).host;
}

/**
 * The image's repository with its registry host and no tag or digest, as a server URL that picks a
 * registry by repository prefix: `quay.example.com/team-b/app:1` is `quay.example.com/team-b/app`,
 * `nginx` is `docker.io/library/nginx`.
 */
export function imageRepository(image: string): string {
  const { host, path } = splitImage(image);
  return `${host}/${path}`;
}

function splitImage(image: string): { host: string; path: string } {
  const withoutScheme = image.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const first = slash < 0 ? '' : withoutScheme.slice(0, slash);
  const onHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const name = (onHost ? withoutScheme.slice(slash + 1) : withoutScheme).replace(/@.*$/, '').replace(/:[^/]*$/, '');
  if (onHost) return { host: first.toLowerCase(), path: name };
  return { host: 'docker.io', path: name.includes('/') ? name : `library/${name}` };
}

/** A duration as Go's `time.Duration.String()` prints it, to the second: `11h30m0s`, `45m0s`, `0s`. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** How long the kubelet may keep a token that is valid until `expiresAt`; undefined: its default. */
export function cacheDurationFor(expiresAt: Date | undefined, now: number): string | undefined {
  if (expiresAt === undefined) return undefined;
  const remaining = expiresAt.getTime() - now;
  const margin = Math.min(MAX_MARGIN_MS, 0.25 * Math.max(0, remaining));
  return goDuration(remaining - margin);
}

export interface Found {
  username: string;
  secret: string;
  expiresAt?: Date;
  /** `host/prefix` when the credential serves only that repository prefix of its host. */
  scope?: string;
}

/** The answer for a request: `auth` keyed by the image's registry host (or the prefix it serves), empty when nothing applies. */
export function buildResponse(request: CredentialProviderRequest, found: Found | undefined, now: number): CredentialProviderResponse {
  const response: CredentialProviderResponse = {
    kind: 'CredentialProviderResponse',
    apiVersion: request.apiVersion,
    cacheKeyType: 'Registry',
    auth: {},
  };
  if (!found) return { ...response, cacheDuration: '0s' };
  const cacheDuration = cacheDurationFor(found.expiresAt, now);
  // A credential for one prefix of a host is keyed by that prefix and cached per image: cached per
  // host, it would stand in for the host's other prefixes.
  return {
    ...response,
    ...(found.scope !== undefined ? { cacheKeyType: 'Image' as const } : {}),
    ...(cacheDuration !== undefined ? { cacheDuration } : {}),
    auth: { [found.scope ?? imageRegistryHost(request.image)]: { username: found.username, password: found.secret } },
  };
}
