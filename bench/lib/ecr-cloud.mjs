// A stand-in for ECR's GetAuthorizationToken that answers after a fixed delay (a cloud round trip):
// berth's ECR provider (the AWS SDK) reaches it through AWS_ENDPOINT_URL_ECR, Debian's
// docker-credential-ecr-login through a TLS-terminating CONNECT proxy (Go honours HTTPS_PROXY and
// SSL_CERT_FILE). Shared by the benchmarks.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';

/**
 * Starts the stand-in in `work` (its certificates go there) for registry `ecr` in `region`.
 * `cloud.calls` counts the tokens it handed out; `cloud.lifetimeMs` sets their life.
 */
export async function startEcrCloud({ work, ecr, region, delayMs }) {
  const cloud = { lifetimeMs: 12 * 3600_000, calls: 0, url: '', ca: '', close: () => undefined };
  function answer(req, res) {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () =>
      setTimeout(() => {
        cloud.calls++;
        const expiresAt = Date.now() + cloud.lifetimeMs;
        const secret = `pw-${cloud.calls}`;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        const authorizationToken = Buffer.from(`AWS:${secret}`).toString('base64');
        res.end(
          JSON.stringify({ authorizationData: [{ authorizationToken, expiresAt: expiresAt / 1000, proxyEndpoint: `https://${ecr}` }] }),
        );
      }, delayMs),
    );
  }
  const tls = certificates(work, region);
  const api = createServer(answer);
  const proxy = createServer(answer);
  // CONNECT api.ecr…:443 → TLS with our certificate → the same handler.
  proxy.on('connect', (_req, socket) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    api.emit('connection', new TLSSocket(socket, { isServer: true, key: tls.key, cert: tls.cert }));
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  cloud.url = `http://127.0.0.1:${proxy.address().port}`;
  cloud.ca = tls.ca;
  cloud.close = () => proxy.close();
  return cloud;
}

function certificates(work, region) {
  const openssl = (...a) => execFileSync('openssl', a, { cwd: work, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth bench CA');
  openssl('req', ...ec, '-keyout', 'api.key', '-out', 'api.csr', '-subj', `/CN=api.ecr.${region}.amazonaws.com`);
  writeFileSync(join(work, 'san.ext'), `subjectAltName=DNS:api.ecr.${region}.amazonaws.com\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'api.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'api.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return { key: readFileSync(join(work, 'api.key')), cert: readFileSync(join(work, 'api.pem')), ca: join(work, 'ca.pem') };
}
