/**
 * @module
 * The token server in front of `docker-registry`'s `auth: token` mode, as the Docker token
 * specification describes it: `GET /token?service=…&scope=…&account=…` with the user's Basic
 * credentials answers `{"token": <JWT>}`, a JWT signed RS256 whose `x5c` header carries a
 * certificate the registry trusts (its `rootcertbundle`), for the audience the registry names.
 * Wrong credentials answer 401. The certificate and key are made here, for this run only.
 */
import { X509Certificate, createSign, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createClientCertificate } from '../../fakes/test-ca.js';

export const TOKEN_SERVICE = 'berth-e2e-registry';
const ISSUER = 'berth-e2e-token-server';

export interface TokenServer {
  /** The registry's `auth:` section, pointing at this server and its certificate. */
  authYaml: string[];
  /** Token requests so far, and how many were refused. */
  requests: () => { issued: number; refused: number };
  close(): Promise<void>;
}

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Scopes as the registry asks for them: `repository:team/app:pull,push`. */
function accessFor(scopes: string[]): { type: string; name: string; actions: string[] }[] {
  return scopes.flatMap((scope) => {
    const match = /^([a-z]+):(.+):([a-z,*]+)$/.exec(scope);
    return match ? [{ type: match[1]!, name: match[2]!, actions: match[3]!.split(',') }] : [];
  });
}

export async function startTokenServer(users: readonly { username: string; password: string }[], dir: string): Promise<TokenServer> {
  const certificate = createClientCertificate('berth e2e token signer');
  const certPath = join(dir, 'token-signer.pem');
  await writeFile(certPath, certificate.certPem);
  const x5c = [new X509Certificate(certificate.certPem).raw.toString('base64')];
  let issued = 0;
  let refused = 0;
  const sign = (subject: string, scopes: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url({ typ: 'JWT', alg: 'RS256', x5c });
    const claims = base64url({
      iss: ISSUER,
      sub: subject,
      aud: TOKEN_SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access: accessFor(scopes),
    });
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(certificate.keyPem).toString('base64url');
    return `${header}.${claims}.${signature}`;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [username, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const user = users.find((candidate) => candidate.username === username);
    if (url.pathname !== '/token' || !user || !sameText(rest.join(':'), user.password)) {
      refused++;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="berth-e2e-token"' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    issued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: sign(user.username, url.searchParams.getAll('scope')), expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    authYaml: [
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${port}/token`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${certPath}`,
    ],
    requests: () => ({ issued, refused }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
