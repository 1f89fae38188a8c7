/**
 * @module
 * One namespace brought to the wanted state, through the KubeApi: the pull Secret exists with the
 * current content (created, or replaced with the resourceVersion it was read at), and each named
 * service account lists it in `imagePullSecrets`. Nothing is written when nothing changed; a 409
 * re-reads and tries again; 5xx and unreachable answers are retried with backoff. A Secret of that
 * name berth did not create (no ownership label) is never touched. Pruning deletes only berth's own.
 */
import { createHash } from 'node:crypto';
import { BerthError } from '../errors.js';
import { KubeApiError, type KubeApi, type SecretObject } from './api.js';

/** The label that marks a Secret as berth's: only those are updated or deleted. */
export const OWNER_LABEL = 'app.kubernetes.io/managed-by';
export const OWNER_VALUE = 'berth';
/** When the credentials in the Secret stop working (the earliest of its registries). */
export const EXPIRES_ANNOTATION = 'berth.dev/expires-at';

/** What every matching namespace's Secret holds. */
export interface PullSecretContent {
  type: string;
  data: Record<string, string>;
  expiresAt?: Date;
}

export interface Target {
  secretName: string;
  serviceAccounts: readonly string[];
}

export interface NamespaceOutcome {
  secret: 'created' | 'updated' | 'unchanged';
  /** Service accounts that were patched to list the Secret. */
  patched: string[];
}

/** A Secret of berth's name that someone else made. */
export class NotOwnedError extends BerthError {
  override name = 'NotOwnedError';
}

const MAX_ATTEMPTS = 6;

/** A short digest of the content: equal digests, nothing to write. */
export function fingerprint(content: PullSecretContent): string {
  const hash = createHash('sha256').update(content.type);
  for (const key of Object.keys(content.data).sort()) hash.update(`\0${key}\0${content.data[key]}`);
  hash.update(`\0${content.expiresAt?.toISOString() ?? ''}`);
  return hash.digest('hex').slice(0, 16);
}

export function isOwned(secret: SecretObject): boolean {
  return secret.metadata.labels?.[OWNER_LABEL] === OWNER_VALUE;
}

function sameContent(secret: SecretObject, content: PullSecretContent): boolean {
  const keys = Object.keys(content.data);
  const data = secret.data ?? {};
  return (
    secret.type === content.type &&
    Object.keys(data).length === keys.length &&
    keys.every((key) => data[key] === content.data[key]) &&
    (secret.metadata.annotations?.[EXPIRES_ANNOTATION] ?? '') === (content.expiresAt?.toISOString() ?? '')
  );
}

/** The Secret to write: berth's label and expiry on top of whatever labels and annotations it had. */
function secretBody(namespace: string, target: Target, content: PullSecretContent, existing?: SecretObject): SecretObject {
  const annotations: Record<string, string> = { ...existing?.metadata.annotations };
  if (content.expiresAt) annotations[EXPIRES_ANNOTATION] = content.expiresAt.toISOString();
  else delete annotations[EXPIRES_ANNOTATION];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: target.secretName,
      namespace,
      labels: { ...existing?.metadata.labels, [OWNER_LABEL]: OWNER_VALUE },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    type: content.type,
    data: content.data,
  };
}

export interface RetryOptions {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(err: unknown): 'reread' | 'backoff' | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  if (err.status === 409) return 'reread';
  if (err.status === 0 || err.status === 429 || err.status >= 500) return 'backoff';
  return undefined;
}

/** Runs `step` until it settles: 409 re-runs at once (it re-reads), 5xx after a jittered backoff. */
async function withRetries<T>(step: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const kind = retryable(err);
      if (kind === undefined || attempt >= MAX_ATTEMPTS) throw err;
      if (kind === 'backoff') await sleep(Math.min(2_000, 50 * 2 ** attempt) * (0.5 + random() / 2));
    }
  }
}

async function syncSecret(
  api: KubeApi,
  namespace: string,
  target: Target,
  content: PullSecretContent,
): Promise<NamespaceOutcome['secret']> {
  const existing = await api.getSecret(namespace, target.secretName);
  if (!existing) {
    await api.createSecret(namespace, secretBody(namespace, target, content));
    return 'created';
  }
  if (!isOwned(existing)) {
    throw new NotOwnedError(`secret ${namespace}/${target.secretName} was not created by berth; left alone`, {
      hint: `choose another --secret-name, or label it ${OWNER_LABEL}=${OWNER_VALUE} to hand it to berth`,
    });
  }
  if (sameContent(existing, content)) return 'unchanged';
  await api.replaceSecret(namespace, secretBody(namespace, target, content, existing));
  return 'updated';
}

/** True when the service account had to be patched. */
async function syncServiceAccount(api: KubeApi, namespace: string, name: string, secretName: string): Promise<boolean> {
  const account = await api.getServiceAccount(namespace, name);
  if (!account) throw new BerthError(`serviceaccount ${namespace}/${name} not found`);
  if ((account.imagePullSecrets ?? []).some((entry) => entry.name === secretName)) return false;
  await api.addImagePullSecret(namespace, name, secretName);
  return true;
}

export async function reconcileNamespace(
  api: KubeApi,
  namespace: string,
  target: Target,
  content: PullSecretContent,
  options: RetryOptions = {},
): Promise<NamespaceOutcome> {
  const secret = await withRetries(() => syncSecret(api, namespace, target, content), options);
  const patched: string[] = [];
  for (const account of target.serviceAccounts) {
    if (await withRetries(() => syncServiceAccount(api, namespace, account, target.secretName), options)) patched.push(account);
  }
  return { secret, patched };
}

/**
 * Deletes berth's Secret from a namespace that no longer matches, and first its name from the
 * service accounts berth added it to (a pod would otherwise be created with a pull secret that is
 * not there, and an event saying so); true when one was deleted. A Secret berth does not own, and
 * its name in service accounts, stay.
 */
export async function pruneNamespace(api: KubeApi, namespace: string, target: Target, options: RetryOptions = {}): Promise<boolean> {
  const { secretName } = target;
  const existing = await withRetries(() => api.getSecret(namespace, secretName), options);
  if (!existing || !isOwned(existing)) return false;
  for (const name of target.serviceAccounts) {
    await withRetries(async () => {
      const account = await api.getServiceAccount(namespace, name);
      if (account && (account.imagePullSecrets ?? []).some((entry) => entry.name === secretName)) {
        await api.removeImagePullSecret(namespace, name, secretName);
      }
    }, options);
  }
  // The first attempt deletes the Secret read above; a retry (a conflict, a passing failure) reads it again.
  let known: SecretObject | undefined = existing;
  return withRetries(async () => {
    const current = known ?? (await api.getSecret(namespace, secretName));
    known = undefined;
    if (!current || !isOwned(current)) return false;
    try {
      await api.deleteSecret(namespace, secretName, current.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
    return true;
  }, options);
}
