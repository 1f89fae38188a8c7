// The API server stand-in follows the API's rules, so tests against it prove something: discovery,
// label selectors, optimistic concurrency, AlreadyExists, missing namespaces, RBAC refusals with a
// Status body, merge versus strategic-merge patch, payload validation, watch semantics (replay from
// a resourceVersion, selector transitions, bookmarks, 410 after compaction).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApiServer, parseSelector } from './kube-apiserver.js';

let api: FakeKubeApiServer;
beforeEach(async () => {
  api = await FakeKubeApiServer.start();
  api.addNamespace('apps', { team: 'a' });
});
afterEach(() => api.close());

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field in the assertions
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const pullSecret = (name: string, payload = '{"auths":{}}') => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': Buffer.from(payload).toString('base64') },
});

describe('FakeKubeApiServer', () => {
  it('answers discovery', async () => {
    expect((await call('GET', '/version')).body.gitVersion).toMatch(/^v1\./);
    expect((await call('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((await call('GET', '/apis')).body).toMatchObject({ kind: 'APIGroupList', groups: [] });
    const resources = (await call('GET', '/api/v1')).body.resources.map((r: { name: string }) => r.name);
    expect(resources).toEqual(['namespaces', 'secrets', 'serviceaccounts']);
  });

  it('creates once (409 AlreadyExists), updates only from the current resourceVersion (409 Conflict)', async () => {
    const created = await call('POST', '/api/v1/namespaces/apps/secrets', pullSecret('pull'));
    expect(created.status).toBe(201);
    const again = await call('POST', '/api/v1/namespaces/apps/secrets', pullSecret('pull'));
    expect(again).toMatchObject({ status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409 } });
    const rv = created.body.metadata.resourceVersion;
    const updated = await call('PUT', '/api/v1/namespaces/apps/secrets/pull', {
      ...pullSecret('pull', '{"auths":{"a":{}}}'),
      metadata: { name: 'pull', resourceVersion: rv },
    });
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
    const stale = await call('PUT', '/api/v1/namespaces/apps/secrets/pull', {
      ...pullSecret('pull'),
      metadata: { name: 'pull', resourceVersion: rv },
    });
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const staleDelete = await call('DELETE', '/api/v1/namespaces/apps/secrets/pull', { preconditions: { resourceVersion: rv } });
    expect(staleDelete.status).toBe(409);
  });

  it('404 for a missing namespace or object; 422 for a dockerconfigjson that is not JSON', async () => {
    expect(await call('POST', '/api/v1/namespaces/nope/secrets', pullSecret('pull'))).toMatchObject({
      status: 404,
      body: { reason: 'NotFound', message: 'namespaces "nope" not found' },
    });
    expect((await call('GET', '/api/v1/namespaces/apps/secrets/absent')).status).toBe(404);
    expect(await call('POST', '/api/v1/namespaces/apps/secrets', pullSecret('bad', 'not json'))).toMatchObject({
      status: 422,
      body: { reason: 'Invalid' },
    });
    expect((await call('POST', '/api/v1/namespaces/apps/secrets', pullSecret('Bad_Name'))).status).toBe(422);
  });

  it('403 from the permission table, with a Status naming verb, resource and namespace', async () => {
    api.forbid('create', 'secrets', 'apps');
    const refused = await call('POST', '/api/v1/namespaces/apps/secrets', pullSecret('pull'));
    expect(refused).toMatchObject({
      status: 403,
      body: { kind: 'Status', reason: 'Forbidden', code: 403, details: { name: 'pull', kind: 'secrets' } },
    });
    expect(refused.body.message).toBe(
      'secrets "pull" is forbidden: User "system:serviceaccount:berth:berth-sync" cannot create resource "secrets" in API group "" in the namespace "apps"',
    );
    expect((await call('GET', '/api/v1/namespaces/apps/secrets/pull')).status).toBe(404); // get is still allowed
  });

  it('merge patch replaces imagePullSecrets; strategic merge merges it by name', async () => {
    api.putServiceAccount('apps', 'builder', [{ name: 'a' }]);
    const path = '/api/v1/namespaces/apps/serviceaccounts/builder';
    const strategic = await call(
      'PATCH',
      path,
      { imagePullSecrets: [{ name: 'b' }, { name: 'a' }] },
      'application/strategic-merge-patch+json',
    );
    expect(strategic.body.imagePullSecrets).toEqual([{ name: 'a' }, { name: 'b' }]);
    const merge = await call('PATCH', path, { imagePullSecrets: [{ name: 'c' }] }, 'application/merge-patch+json');
    expect(merge.body.imagePullSecrets).toEqual([{ name: 'c' }]);
    expect((await call('PATCH', path, [], 'application/json-patch+json')).status).toBe(400);
    expect((await call('PATCH', path, {}, 'application/apply-patch+yaml')).status).toBe(415);
  });

  it('lists namespaces by label selector', async () => {
    api.addNamespace('web', { team: 'b', tier: 'front' });
    const names = async (selector: string) =>
      (await call('GET', `/api/v1/namespaces?labelSelector=${encodeURIComponent(selector)}`)).body.items.map(
        (n: { metadata: { name: string } }) => n.metadata.name,
      );
    expect(await names('team=a')).toEqual(['apps']);
    expect(await names('team!=a')).toEqual(['web']);
    expect(await names('team in (a,b),tier')).toEqual(['web']);
    expect(await names('!tier')).toEqual(['apps']);
    expect((await call('GET', '/api/v1/namespaces?labelSelector=%3D%3D')).status).toBe(400);
    expect(parseSelector('team notin (a)')({ team: 'b' })).toBe(true);
  });

  it('watches from a resourceVersion: replay, selector transitions, bookmarks, 410 after compaction', async () => {
    api.bookmarkIntervalMs = 50;
    const from = (await call('GET', '/api/v1/namespaces')).body.metadata.resourceVersion;
    api.addNamespace('later', { team: 'a' });
    api.setNamespaceLabels('later', { team: 'b' });
    api.setNamespaceLabels('later', { team: 'a' });
    const controller = new AbortController();
    const response = await fetch(
      `${api.url}/api/v1/namespaces?watch=1&labelSelector=team%3Da&allowWatchBookmarks=true&resourceVersion=${from}`,
      { signal: controller.signal },
    );
    const reader = response.body!.getReader();
    let text = '';
    while ((text.match(/\n/g) ?? []).length < 4) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: { metadata: { name?: string } } });
    expect(events.slice(0, 3).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED later', 'DELETED later', 'ADDED later']);
    expect(events[3]?.type).toBe('BOOKMARK');
    api.compact();
    const gone = await (await fetch(`${api.url}/api/v1/namespaces?watch=1&resourceVersion=${from}`)).text();
    expect(JSON.parse(gone.trim())).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});
