// The kubelet protocol's pure parts: request checks, the image's registry, Go durations and the
// cache duration a token's expiry gives.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import {
  buildResponse,
  cacheDurationFor,
  goDuration,
  imageRegistryHost,
  imageRepository,
  parseRequest,
} from '../../../core/kube/credential-provider.js';

const V1 = 'credentialprovider.kubelet.k8s.io/v1';
const HOUR = 3_600_000;

describe('goDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [1_000, '1s'],
    [59_000, '59s'],
    [60_000, '1m0s'],
    [HOUR - 1_000, '59m59s'],
    [HOUR, '1h0m0s'],
    [11.5 * HOUR, '11h30m0s'],
    [100 * HOUR + 61_000, '100h1m1s'],
    [-5_000, '0s'],
  ])('%d ms is %s', (ms, text) => expect(goDuration(ms)).toBe(text));
});

describe('cacheDurationFor', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it.each([
    [12 * HOUR, '11h30m0s'], // margin capped at 30 minutes
    [2 * HOUR, '1h30m0s'],
    [HOUR, '45m0s'], // a quarter of the life left
    [20_000, '15s'],
    [0, '0s'],
    [-HOUR, '0s'],
  ])('a token valid %d ms more is cached %s', (left, text) => expect(cacheDurationFor(new Date(now + left), now)).toBe(text));
  it('no expiry: no duration (the config default applies)', () => expect(cacheDurationFor(undefined, now)).toBeUndefined());
});

describe('imageRegistryHost', () => {
  it.each([
    ['nginx', 'docker.io'],
    ['nginx:1.27', 'docker.io'],
    ['library/nginx', 'docker.io'],
    ['docker.io/library/nginx', 'docker.io'],
    ['ghcr.io/org/app:1', 'ghcr.io'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app', 'localhost:5000'],
    ['Registry.Example.com:5000/a/b@sha256:abc', 'registry.example.com:5000'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/app', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['user/app', 'docker.io'],
  ])('%s is on %s', (image, host) => expect(imageRegistryHost(image)).toBe(host));
});

describe('imageRepository', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx'],
    ['user/app@sha256:abc', 'docker.io/user/app'],
    ['quay.example.com/team-b/app:1', 'quay.example.com/team-b/app'],
    ['localhost:5000/app', 'localhost:5000/app'],
    ['Registry.Example.com:5000/a/b:v2@sha256:abc', 'registry.example.com:5000/a/b'],
  ])('%s is %s', (image, repository) => expect(imageRepository(image)).toBe(repository));
});

describe('parseRequest', () => {
  it('reads the v1 and v1beta1 fields', () => {
    const request = parseRequest(
      JSON.stringify({
        apiVersion: V1,
        kind: 'CredentialProviderRequest',
        image: 'ghcr.io/a/b',
        serviceAccountToken: 'jwt',
        serviceAccountAnnotations: { a: 'b' },
      }),
    );
    expect(request).toEqual({ apiVersion: V1, image: 'ghcr.io/a/b', serviceAccountToken: 'jwt', serviceAccountAnnotations: { a: 'b' } });
    expect(parseRequest(JSON.stringify({ apiVersion: `${V1}beta1`, kind: 'CredentialProviderRequest', image: 'x' })).apiVersion).toBe(
      `${V1}beta1`,
    );
  });
  it('an empty token is no token', () => {
    expect(
      parseRequest(JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderRequest', image: 'x', serviceAccountToken: '' })),
    ).toEqual({
      apiVersion: V1,
      image: 'x',
    });
  });
  it.each([
    ['{', /not a JSON/],
    ['null', /not a JSON object/],
    [JSON.stringify({ apiVersion: 'v1', kind: 'CredentialProviderRequest', image: 'x' }), /unsupported apiVersion "v1"/],
    [JSON.stringify({ apiVersion: V1, image: 'x' }), /kind is null/],
    [JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderRequest', image: '  ' }), /no "image"/],
    [JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderRequest', image: 'x', serviceAccountToken: 3 }), /not a string/],
  ])('refuses %s', (text, message) => {
    expect(() => parseRequest(text)).toThrow(UsageError);
    expect(() => parseRequest(text)).toThrow(message);
  });
});

describe('buildResponse', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it('keys auth by the registry host and echoes the apiVersion', () => {
    const response = buildResponse(
      { apiVersion: `${V1}beta1`, image: 'ghcr.io/org/app:1' },
      { username: 'u', secret: 's', expiresAt: new Date(now + HOUR) },
      now,
    );
    expect(response).toEqual({
      kind: 'CredentialProviderResponse',
      apiVersion: `${V1}beta1`,
      cacheKeyType: 'Registry',
      cacheDuration: '45m0s',
      auth: { 'ghcr.io': { username: 'u', password: 's' } },
    });
  });
  it('a credential for one repository prefix: keyed by that prefix and cached per image', () => {
    const response = buildResponse(
      { apiVersion: V1, image: 'quay.example.com/team-b/app:1' },
      { username: 'u', secret: 's', scope: 'quay.example.com/team-b' },
      now,
    );
    expect(response).toEqual({
      kind: 'CredentialProviderResponse',
      apiVersion: V1,
      cacheKeyType: 'Image',
      auth: { 'quay.example.com/team-b': { username: 'u', password: 's' } },
    });
  });
  it('nothing found: empty auth, not cached', () => {
    expect(buildResponse({ apiVersion: V1, image: 'x.io/a' }, undefined, now)).toMatchObject({ auth: {}, cacheDuration: '0s' });
  });
});
