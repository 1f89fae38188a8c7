import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { formatDockercfg } from '../../../core/dockercfg/formats.js';

const entries = [
  { serverURL: 'docker.io', username: 'octo', secret: 'dckr_pat_x' },
  { serverURL: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com', username: 'AWS', secret: 'p:a:ss' },
];
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('formatDockercfg', () => {
  it('writes config.json auths, Docker Hub under https://index.docker.io/v1/', () => {
    expect(JSON.parse(formatDockercfg(entries, 'config'))).toEqual({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('octo:dckr_pat_x') },
        '123456789012.dkr.ecr.us-east-1.amazonaws.com': { auth: b64('AWS:p:a:ss') },
      },
    });
  });

  it('writes the legacy .dockercfg shape with an email', () => {
    expect(JSON.parse(formatDockercfg(entries.slice(1), 'dockercfg'))).toEqual({
      '123456789012.dkr.ecr.us-east-1.amazonaws.com': { auth: b64('AWS:p:a:ss'), email: 'none' },
    });
  });

  it('writes a kubernetes.io/dockerconfigjson Secret whose data is the config JSON', () => {
    const secret = JSON.parse(formatDockercfg(entries, 'k8s-secret', { secretName: 'pull', namespace: 'ci' }));
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pull', namespace: 'ci' } });
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString());
    expect(config).toEqual(JSON.parse(formatDockercfg(entries, 'config')));
  });

  it('writes a kubernetes.io/dockercfg Secret, namespace omitted unless given', () => {
    const secret = JSON.parse(formatDockercfg(entries, 'k8s-dockercfg-secret'));
    expect(secret.metadata).toEqual({ name: 'registry-credentials' });
    expect(secret.type).toBe('kubernetes.io/dockercfg');
    expect(JSON.parse(Buffer.from(secret.data['.dockercfg'], 'base64').toString())).toEqual(
      JSON.parse(formatDockercfg(entries, 'dockercfg')),
    );
  });

  it.each([
    [{ secretName: 'Pull_Secret' }, /"Pull_Secret" is not a valid Kubernetes secret name/],
    [{ secretName: `a${'b'.repeat(253)}` }, /secret name/],
    [{ namespace: 'a.b' }, /"a.b" is not a valid Kubernetes namespace/],
    [{ namespace: 'x'.repeat(64) }, /namespace/],
  ])('rejects bad names %o', (options, message) => {
    expect(() => formatDockercfg(entries, 'k8s-secret', options)).toThrow(UsageError);
    expect(() => formatDockercfg(entries, 'k8s-secret', options)).toThrow(message);
  });

  it('accepts the longest valid names', () => {
    expect(() => formatDockercfg(entries, 'k8s-secret', { secretName: 'a'.repeat(253), namespace: 'n'.repeat(63) })).not.toThrow();
  });
});
