import { describe, expect, it } from 'vitest';
import { bypassesProxy, proxyAgentsFromEnv, proxySettings } from '../../../core/io/proxy.js';

describe('bypassesProxy', () => {
  const cases: [host: string, port: number, noProxy: string | undefined, direct: boolean][] = [
    ['api.ecr.us-east-1.amazonaws.com', 443, undefined, false],
    ['api.ecr.us-east-1.amazonaws.com', 443, '', false],
    ['api.ecr.us-east-1.amazonaws.com', 443, '*', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, 'amazonaws.com', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, '.amazonaws.com', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, '*.amazonaws.com', true],
    ['amazonaws.com', 443, '.amazonaws.com', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, 'ws.com', false],
    ['evilamazonaws.com', 443, 'amazonaws.com', false],
    ['api.ecr.us-east-1.amazonaws.com', 443, 'example.com, amazonaws.com', true],
    ['API.ECR.US-EAST-1.AMAZONAWS.COM', 443, 'AmazonAWS.com', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, 'amazonaws.com:443', true],
    ['api.ecr.us-east-1.amazonaws.com', 443, 'amazonaws.com:8443', false],
    ['127.0.0.1', 5000, '127.0.0.1', true],
    ['10.1.2.3', 443, '10.0.0.0/8', true],
    ['11.1.2.3', 443, '10.0.0.0/8', false],
    ['::1', 443, '::1', true],
    ['[::1]', 443, '[::1]', true],
    ['::1', 443, '[::1]:8443', false],
    ['fd00::5', 443, 'fd00::/8', true],
    ['sts.amazonaws.com', 443, 'localhost,169.254.169.254', false],
  ];
  it.each(cases)('%s:%i with NO_PROXY=%j → direct %s', (host, port, noProxy, direct) => {
    expect(bypassesProxy(host, port, noProxy)).toBe(direct);
  });
});

describe('proxyAgentsFromEnv', () => {
  it('makes no agent without a proxy variable', () => {
    expect(proxyAgentsFromEnv({ NO_PROXY: '*' })).toEqual({});
  });

  it('takes the lower-case names first, as curl does, and adds a missing scheme', () => {
    const agents = proxyAgentsFromEnv({
      HTTPS_PROXY: 'http://other:1',
      https_proxy: 'proxy.corp:3128',
      HTTP_PROXY: 'http://p:8080',
    });
    expect(agents.httpsAgent?.proxy.href).toBe('http://proxy.corp:3128/');
    expect(agents.httpAgent?.proxy.href).toBe('http://p:8080/');
  });
});

describe('proxySettings', () => {
  it('reads each variable lower case first, then upper case; empty is unset', () => {
    expect(proxySettings({ no_proxy: 'a.example', NO_PROXY: 'b.example', HTTPS_PROXY: 'p:1', https_proxy: '' })).toEqual({
      httpsProxy: 'http://p:1',
      noProxy: 'a.example',
    });
    expect(proxySettings({ http_proxy: 'http://low:1', HTTP_PROXY: 'http://up:2' })).toEqual({ httpProxy: 'http://low:1' });
    expect(proxySettings({})).toEqual({});
  });
});
