/** One spelling per registry: real spellings from docker and containers/image, and look-alikes that must stay apart. */
import { describe, expect, it } from 'vitest';
import { DOCKER_HUB_KEY, isDockerTokenKey, registryHost, registryKey } from '../../core/registry-host.js';

describe('registryKey', () => {
  it.each([
    // Docker Hub, as docker, containers/image, docker-py and people spell it
    ['https://index.docker.io/v1/', DOCKER_HUB_KEY],
    ['docker.io', DOCKER_HUB_KEY],
    ['index.docker.io', DOCKER_HUB_KEY],
    ['registry-1.docker.io', DOCKER_HUB_KEY],
    ['registry.hub.docker.com', DOCKER_HUB_KEY],
    ['https://registry-1.docker.io/v2/', DOCKER_HUB_KEY],
    ['HTTPS://Index.Docker.IO/v1/', DOCKER_HUB_KEY],
    ['  docker.io\n', DOCKER_HUB_KEY],
    // Other registries: host[:port], whatever the scheme, path, case or credentials
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['https://GHCR.io/', 'ghcr.io'],
    ['ghcr.io/', 'ghcr.io'],
    ['ghcr.io/octocat/app:latest', 'ghcr.io'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['localhost:5000', 'localhost:5000'],
    ['https://user:pw@quay.io/repo', 'quay.io'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    ['[::1]:5000', '[::1]:5000'],
  ])('%j → %j', (serverURL, key) => {
    expect(registryKey(serverURL)).toBe(key);
  });

  it.each([
    // Look-alikes of Docker Hub are registries of their own, never Hub's credentials
    'docker.io.evil.example',
    'evil-docker.io',
    'index.docker.io.example',
    'docker.io:5000',
    'hub.docker.com',
    'registry-1.docker.io.attacker.test',
    'xdocker.io',
  ])('%s is not Docker Hub', (serverURL) => {
    expect(registryKey(serverURL)).not.toBe(DOCKER_HUB_KEY);
    expect(registryKey(serverURL)).toBe(registryHost(serverURL));
  });

  it("keeps docker's Hub OAuth token keys apart from the Hub login", () => {
    for (const token of ['access-token', 'refresh-token']) {
      expect(registryKey(`https://index.docker.io/v1/${token}`)).toBe(`https://index.docker.io/v1/${token}`);
      expect(registryKey(`https://index.docker.io/v1/${token}\n`)).toBe(`https://index.docker.io/v1/${token}`);
      expect(isDockerTokenKey(registryKey(`https://index.docker.io/v1/${token}`))).toBe(true);
    }
    expect(isDockerTokenKey(DOCKER_HUB_KEY)).toBe(false);
    // any other path on Hub is still Hub
    expect(registryKey('https://index.docker.io/v1/library/nginx')).toBe(DOCKER_HUB_KEY);
  });

  it.each(['', '   ', 'https://', 'https:///v2/', '/just/a/path'])('%j names no registry', (serverURL) => {
    expect(registryKey(serverURL)).toBe('');
  });
});

describe('registryHost', () => {
  it.each([
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['oci://Registry.Example:443/x', 'registry.example:443'],
    ['a@b@registry.example', 'registry.example'],
    ['https://user;x@ghcr.io/v2/', 'ghcr.io'],
    ['registry.example:5000?x#y', 'registry.example:5000'],
  ])('%j → %j', (serverURL, host) => {
    expect(registryHost(serverURL)).toBe(host);
  });

  // What a client contacts is the host its URL parser reads: the authority ends at the first `/`,
  // `?` or `#`, so what follows an `@` after one of them is no host of the URL's.
  it.each([
    ['evil.example?@ghcr.io', 'evil.example'],
    ['evil.example#@ghcr.io', 'evil.example'],
    ['https://evil.example?@ghcr.io', 'evil.example'],
    ['https://evil.example#@docker.io', 'evil.example'],
    ['evil.example/@ghcr.io', 'evil.example'],
  ])('%j is %j, never the host after the @', (serverURL, host) => {
    expect(registryHost(serverURL)).toBe(host);
    expect(registryKey(serverURL)).toBe(host);
  });

  it.each([
    'evil.example\\@ghcr.io', // a path separator to browsers, part of the user name to Python
    'https://evil.example\\@ghcr.io',
    'ghcr.io\\',
    'gh cr.io',
    'ghcr.io:',
    'ghcr.io:99999999',
    'user@',
  ])('%j names no registry: parsers read its host differently, or it holds no host', (serverURL) => {
    expect(registryHost(serverURL)).toBe('');
  });

  it('agrees with the WHATWG URL parser on every URL it reads: the same host, or none', () => {
    const alphabet = ['a', '.', '@', '?', '#', ';', '/', ':', '1', '\\', '%', ' ', '[', ']'];
    let checked = 0;
    const visit = (middle: string) => {
      for (const serverURL of [`https://${middle}@ghcr.io`, `https://ghcr.io${middle}`, `https://${middle}`]) {
        let parsed: URL;
        try {
          parsed = new URL(serverURL);
        } catch {
          continue; // a URL no client can contact
        }
        const ours = registryHost(serverURL);
        // compared as the parser writes a host (it turns `1` into `0.0.0.1`)
        if (ours !== '') expect(new URL(`https://${ours}`).host, serverURL).toBe(parsed.host);
        checked++;
      }
      if (middle.length < 4) for (const c of alphabet) visit(middle + c);
    };
    visit('');
    expect(checked).toBeGreaterThan(20_000);
  });
});
