/**
 * @module
 * A local stand-in for the Kubernetes API server: the REST subset berth uses, with the API's own
 * rules, so the official client and the real `kubectl` talk to it as to a cluster.
 * - discovery: `/api`, `/api/v1`, `/apis`, `/version`;
 * - namespaces: list (label selectors), get, and watch from a resourceVersion with bookmarks; a
 *   watch with a selector sees DELETED when an object stops matching and ADDED when it starts; a
 *   resourceVersion older than the kept history gets a 410 Gone ERROR event;
 * - secrets and serviceaccounts: get, create (409 AlreadyExists, 404 for a missing namespace),
 *   update (409 Conflict on a stale resourceVersion), merge and strategic-merge patch, delete
 *   (with a resourceVersion precondition); a dockerconfigjson Secret whose payload is not JSON is
 *   422 Invalid, as the API server's validation makes it;
 * - 403 Forbidden from a per-verb permission table; every refusal a `Status` body;
 * - faults on request: a share of writes answered 409 or 500 (nothing applied), dropped watches.
 * Tests reach into the state directly (`namespaces`, `secret()`) to set up and to check.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

type Obj = { apiVersion?: string; kind?: string; metadata: Meta; [field: string]: unknown };
interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  [field: string]: unknown;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
export type Resource = 'namespaces' | 'secrets' | 'serviceaccounts';

export interface ApiCall {
  verb: Verb;
  resource: Resource;
  namespace?: string;
  name?: string;
  status: number;
}

export interface FaultOptions {
  /** Share of writes (create, update, patch, delete of secrets and serviceaccounts) answered with a fault. */
  writeFailureRate: number;
  random?: () => number;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  previous?: Obj;
}

const KINDS: Record<Resource, string> = { namespaces: 'Namespace', secrets: 'Secret', serviceaccounts: 'ServiceAccount' };
const SINGULAR: Record<Resource, string> = { namespaces: 'namespace', secrets: 'secret', serviceaccounts: 'serviceaccount' };
const WRITES = new Set<Verb>(['create', 'update', 'patch', 'delete']);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const USER = 'system:serviceaccount:berth:berth-sync';

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const clone = <T>(value: T): T => structuredClone(value);

/** Label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. */
export function parseSelector(text: string): (labels: Record<string, string>) => boolean {
  const requirements: ((labels: Record<string, string>) => boolean)[] = [];
  for (const raw of text.split(/,(?![^(]*\))/)) {
    const part = raw.trim();
    if (part === '') continue;
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part))) {
      const [, key = '', op, value] = match;
      requirements.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key = '', op, list = ''] = match;
      const values = list.split(',').map((v) => v.trim());
      requirements.push(op === 'in' ? (l) => values.includes(l[key] ?? '\0') : (l) => !values.includes(l[key] ?? '\0'));
    } else if ((match = /^(!?)([\w./-]+)$/.exec(part))) {
      const [, not, key = ''] = match;
      requirements.push(not ? (l) => !(key in l) : (l) => key in l);
    } else {
      throw new StatusError(400, 'BadRequest', `unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return (labels) => requirements.every((requirement) => requirement(labels));
}

export class FakeKubeApiServer {
  readonly calls: ApiCall[] = [];
  /** Writes answered with an injected 409 or 500. */
  injectedFaults = 0;
  /** Namespaced objects: resource → namespace → name → object. */
  readonly #objects: Record<'secrets' | 'serviceaccounts', Map<string, Map<string, Obj>>> = {
    secrets: new Map(),
    serviceaccounts: new Map(),
  };
  readonly #namespaces = new Map<string, Obj>();
  readonly #history: WatchEvent[] = [];
  readonly #watchers = new Set<{ push: (event: WatchEvent) => void; close: () => void }>();
  readonly #forbidden = new Set<string>();
  readonly #sockets = new Set<Socket>();
  #rv = 1;
  /** The newest resourceVersion whose event was forgotten: a watch from before it gets 410 Gone. */
  #compactedRv = 0;
  #faults: FaultOptions | undefined;
  #allowed: Set<string> | undefined;
  /** Events older than this many are forgotten; a watch from before them gets 410 Gone. */
  historyLimit = 10_000;
  bookmarkIntervalMs = 1_000;
  readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeKubeApiServer> {
    const fake = new FakeKubeApiServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', () => resolve()));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * A kubeconfig (JSON is YAML) pointing at this server. @kubernetes/client-node refuses plain
   * http:// unless the cluster says `insecure-skip-tls-verify`.
   */
  kubeconfig(): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'berth', user: { token: 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'berth' } }],
      'current-context': 'fake',
    });
  }

  async close(): Promise<void> {
    for (const watcher of this.#watchers) watcher.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  // ---- state for tests -------------------------------------------------------------------------

  /** Allows only these `verb resource` pairs (an RBAC role's rules); everything else is 403. */
  allowOnly(rules: readonly { verbs: readonly string[]; resources: readonly string[] }[]): void {
    this.#allowed = new Set(rules.flatMap((rule) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${resource}`))));
  }

  /** Refuses `verb` on `resource` (in one namespace, or everywhere) with 403. */
  forbid(verb: Verb, resource: Resource, namespace = '*'): void {
    this.#forbidden.add(`${verb} ${resource} ${namespace}`);
  }

  setFaults(faults: FaultOptions | undefined): void {
    this.#faults = faults;
  }

  /** Ends every open watch, as an API server restart or a load balancer timeout does. */
  dropWatches(): void {
    for (const watcher of this.#watchers) watcher.close();
  }

  /**
   * Forgets the oldest `count` events, as etcd compaction does; without a count, compacts at the
   * current resourceVersion, so a watch from any older one gets 410 Gone.
   */
  compact(count?: number): void {
    if (count === undefined) {
      this.#history.splice(0);
      this.#compactedRv = this.#rv;
      return;
    }
    const dropped = this.#history.splice(0, count);
    if (dropped.length > 0) this.#compactedRv = dropped[dropped.length - 1]!.rv;
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Creates a namespace (and its `default` service account, as the controller manager does). */
  addNamespace(name: string, labels: Record<string, string> = {}, options: { defaultServiceAccount?: boolean } = {}): void {
    const object = this.#stamp({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels }, spec: {}, status: { phase: 'Active' } });
    this.#namespaces.set(name, object);
    this.#record('ADDED', object);
    if (options.defaultServiceAccount !== false) this.putServiceAccount(name, 'default');
  }

  setNamespaceLabels(name: string, labels: Record<string, string>): void {
    const previous = this.#namespaces.get(name);
    if (!previous) throw new Error(`no namespace ${name}`);
    const object = this.#stamp({ ...clone(previous), metadata: { ...clone(previous.metadata), labels } });
    this.#namespaces.set(name, object);
    this.#record('MODIFIED', object, previous);
  }

  deleteNamespace(name: string): void {
    const previous = this.#namespaces.get(name);
    if (!previous) return;
    this.#namespaces.delete(name);
    this.#objects.secrets.delete(name);
    this.#objects.serviceaccounts.delete(name);
    this.#record('DELETED', this.#stamp(clone(previous)));
  }

  putSecret(namespace: string, secret: Omit<Obj, 'metadata'> & { metadata: Partial<Meta> & { name: string } }): Obj {
    return this.#store(
      'secrets',
      namespace,
      this.#stamp({ apiVersion: 'v1', kind: 'Secret', ...clone(secret), metadata: { ...clone(secret.metadata), namespace } }),
    );
  }

  putServiceAccount(namespace: string, name: string, imagePullSecrets?: { name: string }[]): Obj {
    const object: Obj = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
    if (imagePullSecrets) object.imagePullSecrets = clone(imagePullSecrets);
    return this.#store('serviceaccounts', namespace, this.#stamp(object));
  }

  secret(namespace: string, name: string): Obj | undefined {
    return clone(this.#objects.secrets.get(namespace)?.get(name));
  }

  serviceAccount(namespace: string, name: string): Obj | undefined {
    return clone(this.#objects.serviceaccounts.get(namespace)?.get(name));
  }

  secrets(namespace: string): Obj[] {
    return [...(this.#objects.secrets.get(namespace)?.values() ?? [])].map(clone);
  }

  namespaceLabels(name: string): Record<string, string> | undefined {
    return clone(this.#namespaces.get(name)?.metadata.labels);
  }

  namespaceNames(): string[] {
    return [...this.#namespaces.keys()];
  }

  /** Calls seen, counted by `verb resource` (e.g. `create secrets`). */
  count(verb: Verb, resource?: Resource): number {
    return this.calls.filter((call) => call.verb === verb && (resource === undefined || call.resource === resource)).length;
  }

  // ---- the REST API ----------------------------------------------------------------------------

  #stamp(object: Obj): Obj {
    object.metadata.resourceVersion = String(++this.#rv);
    object.metadata.uid ??= randomUUID();
    object.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return object;
  }

  #store(resource: 'secrets' | 'serviceaccounts', namespace: string, object: Obj): Obj {
    let byName = this.#objects[resource].get(namespace);
    if (!byName) this.#objects[resource].set(namespace, (byName = new Map()));
    byName.set(object.metadata.name, object);
    return clone(object);
  }

  #record(type: WatchEvent['type'], object: Obj, previous?: Obj): void {
    const event: WatchEvent = { rv: this.#rv, type, object: clone(object), ...(previous ? { previous: clone(previous) } : {}) };
    this.#history.push(event);
    if (this.#history.length > this.historyLimit) this.compact(this.#history.length - this.historyLimit);
    for (const watcher of this.#watchers) watcher.push(event);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      if (req.method === 'GET' && (await this.#discovery(url.pathname, res))) return;
      const route = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(namespaces|secrets|serviceaccounts)(?:\/([^/]+))?$/.exec(url.pathname);
      const namespacesRoute = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(url.pathname);
      if (namespacesRoute) return this.#namespacesApi(req, res, url, namespacesRoute[1]);
      if (!route || route[2] === 'namespaces' || route[1] === undefined)
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const [, namespace = '', resource, name] = route as unknown as [string, string, 'secrets' | 'serviceaccounts', string | undefined];
      const body = Buffer.concat(chunks).toString('utf8');
      const { status, object } = this.#namespaced(req, resource, namespace, name, body);
      send(res, status, object);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      sendStatus(res, err);
    }
  }

  async #discovery(path: string, res: ServerResponse): Promise<boolean> {
    if (path === '/version') {
      send(res, 200, {
        major: '1',
        minor: '34',
        gitVersion: 'v1.34.0',
        gitCommit: 'fake',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.24',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
    } else if (path === '/api') {
      send(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url.slice(7) }],
      });
    } else if (path === '/apis') {
      send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    } else if (path === '/api/v1') {
      const resource = (name: Resource, namespaced: boolean, verbs: string[], shortNames: string[]) => ({
        name,
        singularName: SINGULAR[name],
        namespaced,
        kind: KINDS[name],
        verbs,
        ...(shortNames.length ? { shortNames } : {}),
      });
      const all = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
      send(res, 200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          resource('namespaces', false, all, ['ns']),
          resource('secrets', true, all, []),
          resource('serviceaccounts', true, all, ['sa']),
        ],
      });
    } else return false;
    return true;
  }

  #check(verb: Verb, resource: Resource, namespace?: string, name?: string): void {
    const forbidden =
      (this.#allowed !== undefined && !this.#allowed.has(`${verb} ${resource}`)) ||
      this.#forbidden.has(`${verb} ${resource} *`) ||
      (namespace !== undefined && this.#forbidden.has(`${verb} ${resource} ${namespace}`));
    this.calls.push({ verb, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), status: forbidden ? 403 : 0 });
    if (forbidden) {
      const what = name ? `${resource} "${name}"` : resource;
      const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
      throw new StatusError(
        403,
        'Forbidden',
        `${what} is forbidden: User "${USER}" cannot ${verb} resource "${resource}" in API group ""${where}`,
        {
          ...(name ? { name } : {}),
          kind: resource,
        },
      );
    }
    if (WRITES.has(verb) && this.#faults && (this.#faults.random ?? Math.random)() < this.#faults.writeFailureRate) {
      const conflict = (this.#faults.random ?? Math.random)() < 0.5;
      this.injectedFaults++;
      throw conflict
        ? new StatusError(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${resource} "${name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`,
            { name, kind: resource },
          )
        : new StatusError(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out');
    }
  }

  #namespacesApi(req: IncomingMessage, res: ServerResponse, url: URL, name: string | undefined): void {
    if (req.method !== 'GET')
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (name !== undefined) {
      this.#check('get', 'namespaces', undefined, name);
      const object = this.#namespaces.get(name);
      if (!object) throw notFound('namespaces', name);
      send(res, 200, object);
      return;
    }
    const watch = url.searchParams.get('watch');
    const matches = parseSelector(url.searchParams.get('labelSelector') ?? '');
    if (watch === 'true' || watch === '1') {
      this.#watch(req, res, url, matches);
      return;
    }
    this.#check('list', 'namespaces');
    const items = [...this.#namespaces.values()].filter((ns) => matches(ns.metadata.labels ?? {}));
    send(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) }, items });
  }

  #watch(req: IncomingMessage, res: ServerResponse, url: URL, matches: (labels: Record<string, string>) => boolean): void {
    this.#check('watch', 'namespaces');
    const from = url.searchParams.get('resourceVersion') ?? '';
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const deliver = (event: WatchEvent) => {
      const now = matches(event.object.metadata.labels ?? {});
      const before = event.previous ? matches(event.previous.metadata.labels ?? {}) : event.type !== 'ADDED' && now;
      if (event.type === 'MODIFIED' && before && !now) write('DELETED', event.object);
      else if (event.type === 'MODIFIED' && !before && now) write('ADDED', event.object);
      else if (now) write(event.type, event.object);
    };
    if (from === '' || from === '0') {
      for (const ns of this.#namespaces.values()) if (matches(ns.metadata.labels ?? {})) write('ADDED', ns);
    } else {
      const since = Number(from);
      if (!Number.isFinite(since) || since < this.#compactedRv) {
        write('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${from} (${this.#compactedRv})`,
          reason: 'Expired',
          code: 410,
        });
        res.end();
        return;
      }
      for (const event of this.#history) if (event.rv > since) deliver(event);
    }
    const timer = bookmarks
      ? setInterval(
          () => write('BOOKMARK', { kind: 'Namespace', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) } }),
          this.bookmarkIntervalMs,
        )
      : undefined;
    const watcher = {
      push: deliver,
      close: () => {
        clearInterval(timer);
        this.#watchers.delete(watcher);
        res.end();
        res.socket?.destroy();
      },
    };
    this.#watchers.add(watcher);
    req.socket.on('close', () => {
      clearInterval(timer);
      this.#watchers.delete(watcher);
    });
  }

  #namespaced(
    req: IncomingMessage,
    resource: 'secrets' | 'serviceaccounts',
    namespace: string,
    name: string | undefined,
    body: string,
  ): { status: number; object: unknown } {
    const byName = () => this.#objects[resource].get(namespace);
    const existing = name === undefined ? undefined : byName()?.get(name);
    switch (`${req.method} ${name === undefined ? 'collection' : 'item'}`) {
      case 'GET collection': {
        this.#check('list', resource, namespace);
        const items = [...(byName()?.values() ?? [])];
        return {
          status: 200,
          object: { kind: `${KINDS[resource]}List`, apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) }, items },
        };
      }
      case 'GET item':
        this.#check('get', resource, namespace, name);
        if (!existing) throw notFound(resource, name ?? '');
        return { status: 200, object: existing };
      case 'POST collection': {
        const object = parseBody(body, KINDS[resource]);
        this.#check('create', resource, namespace, object.metadata.name);
        if (!this.#namespaces.has(namespace)) throw notFound('namespaces', namespace);
        if (object.metadata.namespace && object.metadata.namespace !== namespace) {
          throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        if (byName()?.has(object.metadata.name)) {
          throw new StatusError(409, 'AlreadyExists', `${resource} "${object.metadata.name}" already exists`, {
            name: object.metadata.name,
            kind: resource,
          });
        }
        validate(resource, object);
        delete object.metadata.resourceVersion;
        return {
          status: 201,
          object: this.#store(
            resource,
            namespace,
            this.#stamp({ ...object, apiVersion: 'v1', kind: KINDS[resource], metadata: { ...object.metadata, namespace } }),
          ),
        };
      }
      case 'PUT item': {
        const object = parseBody(body, KINDS[resource]);
        this.#check('update', resource, namespace, name);
        if (!existing) throw notFound(resource, name ?? '');
        if (object.metadata.name !== name)
          throw new StatusError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        if (object.metadata.resourceVersion && object.metadata.resourceVersion !== existing.metadata.resourceVersion)
          throw conflict(resource, name ?? '');
        validate(resource, object);
        const { uid, creationTimestamp } = existing.metadata;
        return {
          status: 200,
          object: this.#store(
            resource,
            namespace,
            this.#stamp({
              ...object,
              apiVersion: 'v1',
              kind: KINDS[resource],
              metadata: { ...object.metadata, namespace, uid, creationTimestamp },
            }),
          ),
        };
      }
      case 'PATCH item': {
        this.#check('patch', resource, namespace, name);
        if (!existing) throw notFound(resource, name ?? '');
        const patch = parsePatch(body);
        const type = String(req.headers['content-type'] ?? '').split(';')[0];
        if (patch.metadata?.resourceVersion && patch.metadata.resourceVersion !== existing.metadata.resourceVersion)
          throw conflict(resource, name ?? '');
        let patched: Obj;
        if (type === 'application/merge-patch+json') patched = mergePatch(clone(existing), patch) as Obj;
        else if (type === 'application/strategic-merge-patch+json') patched = strategicMerge(clone(existing), patch) as Obj;
        else
          throw new StatusError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
          );
        validate(resource, patched);
        return { status: 200, object: this.#store(resource, namespace, this.#stamp(patched)) };
      }
      case 'DELETE item': {
        this.#check('delete', resource, namespace, name);
        if (!existing) throw notFound(resource, name ?? '');
        const options = body ? (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }) : {};
        const wanted = options.preconditions?.resourceVersion;
        if (wanted && wanted !== existing.metadata.resourceVersion) {
          throw new StatusError(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${resource} "${name}": Precondition failed: ResourceVersion: Invalid value: "${wanted}": has resource version ${existing.metadata.resourceVersion}`,
          );
        }
        byName()?.delete(name ?? '');
        ++this.#rv;
        return {
          status: 200,
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name, kind: resource, uid: existing.metadata.uid },
          },
        };
      }
      default:
        throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }
}

function send(res: ServerResponse, status: number, object: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(object));
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  send(res, err.code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details ? { details: err.details } : {}),
    code: err.code,
  });
}

function notFound(resource: Resource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

function conflict(resource: Resource, name: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: resource },
  );
}

function parseBody(body: string, kind: string): Obj {
  let object: Obj;
  try {
    object = JSON.parse(body) as Obj;
  } catch {
    throw new StatusError(
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error`,
    );
  }
  if (object.kind !== undefined && object.kind !== kind)
    throw new StatusError(400, 'BadRequest', `the object provided is unrecognized (must be of type ${kind})`);
  if (typeof object.metadata?.name !== 'string' || !DNS_SUBDOMAIN.test(object.metadata.name)) {
    throw new StatusError(
      422,
      'Invalid',
      `${kind} "${object.metadata?.name ?? ''}" is invalid: metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    );
  }
  return object;
}

function parsePatch(body: string): Partial<Obj> {
  try {
    const patch = JSON.parse(body) as unknown;
    if (typeof patch === 'object' && patch !== null && !Array.isArray(patch)) return patch as Partial<Obj>;
  } catch {
    // fall through
  }
  throw new StatusError(400, 'BadRequest', 'error decoding patch: invalid JSON');
}

/** What the API server's validation checks of the objects berth writes. */
function validate(resource: Resource, object: Obj): void {
  if (resource !== 'secrets') return;
  const data = (object.data ?? {}) as Record<string, string>;
  const fail = (message: string) => new StatusError(422, 'Invalid', `Secret "${object.metadata.name}" is invalid: ${message}`);
  for (const [key, value] of Object.entries(data)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key))
      throw fail(`data[${key}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw fail(`data[${key}]: illegal base64 data`);
  }
  if (object.type === 'kubernetes.io/dockerconfigjson') {
    const payload = data['.dockerconfigjson'];
    if (payload === undefined) throw fail('data[.dockerconfigjson]: Required value');
    try {
      JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    } catch {
      throw fail('data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character looking for beginning of value');
    }
  }
}

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Lists the API's schema merges by a key (patchMergeKey) rather than replacing. */
const MERGE_KEYS: Record<string, string> = { imagePullSecrets: 'name', secrets: 'name' };

/** Strategic merge patch for the fields berth patches: keyed lists merge by their key, the rest as merge patch. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    const mergeKey = MERGE_KEYS[key];
    if (value === null) delete result[key];
    else if (mergeKey && Array.isArray(value)) {
      const merged = Array.isArray(result[key]) ? [...(result[key] as Record<string, unknown>[])] : [];
      for (const item of value as Record<string, unknown>[]) {
        const at = merged.findIndex((entry) => entry[mergeKey] === item[mergeKey]);
        // the delete directive: the element with that key goes, if it is there
        if (item.$patch === 'delete') {
          if (at >= 0) merged.splice(at, 1);
          continue;
        }
        if (at >= 0) merged[at] = strategicMerge(merged[at], item) as Record<string, unknown>;
        else merged.push(clone(item));
      }
      result[key] = merged;
    } else result[key] = strategicMerge(result[key], value);
  }
  return result;
}
