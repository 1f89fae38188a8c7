/**
 * @module
 * The slice of the Kubernetes API `berth kube sync` uses, over the official client
 * (`@kubernetes/client-node`, loaded only by this file, only when sync runs): namespaces (list,
 * watch), Secrets (get, create, replace, delete) and service accounts (get, strategic-merge patch).
 * Every refusal becomes a KubeApiError carrying the status, the API's reason, and the verb,
 * resource and namespace of the call, so a 403 can say exactly what RBAC refused.
 */
import { existsSync } from 'node:fs';
import { BerthError, UsageError, oneLine } from '../errors.js';
import { loadPackage } from '../io/packages.js';
import type { Env } from '../paths.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
}

export interface NamespaceObject {
  metadata: ObjectMeta;
  status?: { phase?: string };
}

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
}

export interface ServiceAccountObject {
  metadata: ObjectMeta;
  imagePullSecrets?: { name?: string }[];
}

export interface NamespaceList {
  items: NamespaceObject[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  stop(): void;
}

export interface KubeApi {
  listNamespaces(labelSelector?: string): Promise<NamespaceList>;
  /** Follows namespaces from `resourceVersion`; `done` is called once, when the stream ends or fails. */
  watchNamespaces(
    options: { labelSelector?: string; resourceVersion: string },
    onEvent: (type: WatchEventType, object: NamespaceObject & { code?: number }) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle>;
  getSecret(namespace: string, name: string): Promise<SecretObject | undefined>;
  createSecret(namespace: string, secret: SecretObject): Promise<SecretObject>;
  replaceSecret(namespace: string, secret: SecretObject): Promise<SecretObject>;
  deleteSecret(namespace: string, name: string, resourceVersion?: string): Promise<void>;
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountObject | undefined>;
  /** A strategic-merge patch: `imagePullSecrets` merges by `name`, the entries already there stay. */
  addImagePullSecret(namespace: string, serviceAccount: string, secretName: string): Promise<void>;
  /** A strategic-merge patch deleting the `imagePullSecrets` entry of that name; the others stay. */
  removeImagePullSecret(namespace: string, serviceAccount: string, secretName: string): Promise<void>;
}

/** A call the API server refused or failed. */
export class KubeApiError extends BerthError {
  override name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly call: { verb: string; resource: string; namespace?: string; name?: string },
    apiMessage: string,
  ) {
    super(describe(status, call, apiMessage), {
      hint: status === 403 ? `grant ${call.verb} on ${call.resource} to berth's service account (deploy/kubernetes/rbac.yaml)` : undefined,
    });
  }
}

function describe(status: number, call: KubeApiError['call'], apiMessage: string): string {
  const where = call.namespace ? ` in namespace ${call.namespace}` : '';
  if (status === 403) return `forbidden: cannot ${call.verb} ${call.resource}${where}`;
  const what = call.name ? `${call.resource} ${call.name}` : call.resource;
  return `${call.verb} ${what}${where}: ${status === 0 ? '' : `${status} `}${apiMessage}`.trimEnd();
}

/** Parses a `Status` body (a string or an object) for its reason and message. */
function statusOf(body: unknown): { reason: string; message: string } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { reason: '', message: body.slice(0, 200) };
    }
  }
  const status = (value ?? {}) as { reason?: unknown; message?: unknown };
  return {
    reason: typeof status.reason === 'string' ? status.reason : '',
    message: typeof status.message === 'string' ? status.message : '',
  };
}

type ClientModule = typeof import('@kubernetes/client-node');

/** In-cluster configuration when running in a pod, else the kubeconfig (`--kubeconfig`, `KUBECONFIG`, ~/.kube/config). */
async function loadKubeConfig(client: ClientModule, env: Env, options: { kubeconfig?: string; context?: string }) {
  const kc = new client.KubeConfig();
  const inCluster = env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else if (env.KUBECONFIG) loadMerged(client, kc, env.KUBECONFIG.split(':').filter(Boolean));
    else if (inCluster) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot load the Kubernetes configuration: ${(err as Error).message}`, {
      hint: 'run in a pod with a service account, or point KUBECONFIG (or --kubeconfig) at a kubeconfig file',
    });
  }
  if (options.context) kc.setCurrentContext(options.context);
  if (!kc.getCurrentCluster()) {
    throw new UsageError('the Kubernetes configuration names no cluster', { hint: 'check the current-context of the kubeconfig' });
  }
  return kc;
}

/**
 * The files of KUBECONFIG merged as kubectl merges them: the first file to name a cluster, a user
 * or a context wins, and so does the first current-context; a file that does not exist is skipped.
 * (The client's own merge refuses a name two files share and takes the last current-context.)
 */
function loadMerged(client: ClientModule, kc: InstanceType<ClientModule['KubeConfig']>, files: readonly string[]): void {
  const merged: Pick<typeof kc, 'clusters' | 'users' | 'contexts' | 'currentContext'> = {
    clusters: [],
    users: [],
    contexts: [],
    currentContext: '',
  };
  const firstByName = <T extends { name: string }>(into: T[], from: readonly T[]) => {
    for (const item of from) if (!into.some((known) => known.name === item.name)) into.push(item);
  };
  const found = files.filter((file) => existsSync(file));
  if (found.length === 0) throw new Error(`KUBECONFIG names no file that exists (${files.join(':')})`);
  for (const file of found) {
    const one = new client.KubeConfig();
    one.loadFromFile(file);
    firstByName(merged.clusters, one.clusters);
    firstByName(merged.users, one.users);
    firstByName(merged.contexts, one.contexts);
    merged.currentContext ||= one.currentContext;
  }
  kc.loadFromOptions(merged);
}

/**
 * The client builds a fresh agent (TLS settings, no keep-alive) for every request, so every call
 * opened its own connection: 1,000 namespaces cost 4,000 TCP handshakes. This keeps one keep-alive
 * agent with the first agent's options (CA, client certificate, skip-verify) and reuses it.
 */
async function keepAliveMiddleware() {
  const [http, https] = await Promise.all([import('node:http'), import('node:https')]);
  let shared: import('node:http').Agent | undefined;
  return {
    pre: async <T extends { getAgent(): unknown; setAgent(agent: import('node:http').Agent): void }>(context: T) => {
      const agent = context.getAgent() as (import('node:http').Agent & { options?: object }) | undefined;
      if (agent) {
        shared ??=
          agent instanceof https.Agent
            ? new https.Agent({ ...agent.options, keepAlive: true })
            : new http.Agent({ ...agent.options, keepAlive: true });
        context.setAgent(shared);
      }
      return context;
    },
    post: async <T>(response: T) => response,
  };
}

export async function openKubeApi(env: Env, options: { kubeconfig?: string; context?: string } = {}): Promise<KubeApi> {
  const client = await loadPackage('@kubernetes/client-node');
  const kc = await loadKubeConfig(client, env, options);
  const cluster = kc.getCurrentCluster()!;
  const core = new client.CoreV1Api(
    client.createConfiguration({
      baseServer: new client.ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [await keepAliveMiddleware()],
    }),
  );
  const watcher = new client.Watch(kc);
  const strategicMerge = client.setHeaderOptions('Content-Type', client.PatchStrategy.StrategicMergePatch);

  async function call<T>(what: KubeApiError['call'], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof client.ApiException) {
        const { reason, message } = statusOf(err.body);
        throw new KubeApiError(err.code, reason, what, message);
      }
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
      throw new KubeApiError(0, 'Unreachable', what, `cannot reach the API server: ${cause ?? oneLine(err)}`);
    }
  }
  const absentOn404 = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404 && err.reason === 'NotFound') return undefined;
      throw err;
    }
  };

  return {
    async listNamespaces(labelSelector) {
      const list = await call({ verb: 'list', resource: 'namespaces' }, () => core.listNamespace(labelSelector ? { labelSelector } : {}));
      return { items: list.items as NamespaceObject[], resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watchNamespaces({ labelSelector, resourceVersion }, onEvent, done) {
      const query = { resourceVersion, allowWatchBookmarks: true, ...(labelSelector ? { labelSelector } : {}) };
      const controller = await watcher.watch('/api/v1/namespaces', query, (type, object) => onEvent(type as WatchEventType, object), done);
      return { stop: () => controller.abort() };
    },
    getSecret: (namespace, name) =>
      absentOn404(() =>
        call(
          { verb: 'get', resource: 'secrets', namespace, name },
          () => core.readNamespacedSecret({ namespace, name }) as Promise<SecretObject>,
        ),
      ),
    createSecret: (namespace, body) =>
      call(
        { verb: 'create', resource: 'secrets', namespace, name: body.metadata.name },
        () => core.createNamespacedSecret({ namespace, body }) as Promise<SecretObject>,
      ),
    replaceSecret: (namespace, body) =>
      call(
        { verb: 'update', resource: 'secrets', namespace, name: body.metadata.name },
        () => core.replaceNamespacedSecret({ namespace, name: body.metadata.name, body }) as Promise<SecretObject>,
      ),
    async deleteSecret(namespace, name, resourceVersion) {
      const body = resourceVersion ? { preconditions: { resourceVersion } } : {};
      await call({ verb: 'delete', resource: 'secrets', namespace, name }, () => core.deleteNamespacedSecret({ namespace, name, body }));
    },
    getServiceAccount: (namespace, name) =>
      absentOn404(() =>
        call(
          { verb: 'get', resource: 'serviceaccounts', namespace, name },
          () => core.readNamespacedServiceAccount({ namespace, name }) as Promise<ServiceAccountObject>,
        ),
      ),
    async addImagePullSecret(namespace, name, secretName) {
      const body = { imagePullSecrets: [{ name: secretName }] };
      await call({ verb: 'patch', resource: 'serviceaccounts', namespace, name }, () =>
        core.patchNamespacedServiceAccount({ namespace, name, body }, strategicMerge),
      );
    },
    async removeImagePullSecret(namespace, name, secretName) {
      const body = { imagePullSecrets: [{ name: secretName, $patch: 'delete' }] };
      await call({ verb: 'patch', resource: 'serviceaccounts', namespace, name }, () =>
        core.patchNamespacedServiceAccount({ namespace, name, body }, strategicMerge),
      );
    },
  };
}
