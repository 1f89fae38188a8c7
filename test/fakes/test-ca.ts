/**
 * @module
 * A certificate authority made at test time, so a child process given `NODE_EXTRA_CA_CERTS` trusts
 * fake cloud endpoints under their real host names. node:crypto makes the keys (fast, native);
 * node-forge writes the X.509 certificates, which node:crypto cannot.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface TestCa {
  /** The CA certificate, PEM, and the file holding it (for NODE_EXTRA_CA_CERTS). */
  certPem: string;
  certPath: string;
  /** A TLS server certificate for these host names or IP addresses, signed by the CA. */
  issueServerCertificate(names: readonly string[]): CertificateAndKey;
}

export function generateRsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function buildCertificate(options: {
  subject: string;
  keys: KeyPairPem;
  issuer?: { subject: string; privateKeyPem: string };
  extensions: object[];
}): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(options.keys.publicKeyPem);
  // A positive serial: the high bit of the first byte clear.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: 'commonName', value: options.subject }]);
  cert.setIssuer([{ name: 'commonName', value: options.issuer?.subject ?? options.subject }]);
  cert.setExtensions(options.extensions);
  const signingKey = options.issuer?.privateKeyPem ?? options.keys.privateKeyPem;
  cert.sign(forge.pki.privateKeyFromPem(signingKey) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Creates the CA and writes its certificate to `<dir>/ca.pem`. */
export function createTestCa(dir: string): TestCa {
  const subject = 'berth test CA';
  const caKeys = generateRsaKeyPair();
  const certPem = buildCertificate({
    subject,
    keys: caKeys,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const certPath = join(dir, 'ca.pem');
  writeFileSync(certPath, certPem);
  // One key for every server certificate: RSA generation is the slow part and tests need no more.
  const serverKeys = generateRsaKeyPair();
  return {
    certPem,
    certPath,
    issueServerCertificate(names) {
      const altNames = names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }));
      const leaf = buildCertificate({
        subject: names[0] ?? 'localhost',
        keys: serverKeys,
        issuer: { subject, privateKeyPem: caKeys.privateKeyPem },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames },
        ],
      });
      return { certPem: leaf, keyPem: serverKeys.privateKeyPem };
    },
  };
}

export interface ClientCertificate extends CertificateAndKey {
  publicKeyPem: string;
  /** SHA-1 and SHA-256 of the DER certificate, base64url: the JWT `x5t` and `x5t#S256` headers. */
  x5t: string;
  x5tS256: string;
}

/** A self-signed certificate for a client (an Entra app registration's certificate credential). */
export function createClientCertificate(subject: string): ClientCertificate {
  const keys = generateRsaKeyPair();
  const certPem = buildCertificate({
    subject,
    keys,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certPem))).getBytes(), 'binary');
  return {
    certPem,
    keyPem: keys.privateKeyPem,
    publicKeyPem: keys.publicKeyPem,
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
  };
}
