/**
 * Certificates generated at run time for the simulated Huawei platform and its
 * tests: a CA, a server certificate for localhost/127.0.0.1/::1 and a client
 * certificate for mutual TLS, all signed by that CA. `node:crypto` makes the
 * keys (fast, native) but cannot sign X.509 certificates; node-forge signs them.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** PEM texts of a generated PKI. */
export interface GeneratedPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

function keyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privatePem: string } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), privateKey: forgeKey, privatePem: privateKey };
}

function certificate(options: {
  commonName: string;
  publicKey: forge.pki.PublicKey;
  signer: forge.pki.rsa.PrivateKey;
  issuer?: forge.pki.Certificate;
  extensions: object[];
  days: number;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = options.publicKey;
  // Positive serial: the high bit clear.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + options.days * 86_400_000);
  const subject = [{ name: 'commonName', value: options.commonName }, { name: 'organizationName', value: 'OTA Gateway simulated platform' }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.subject.attributes : subject);
  cert.setExtensions(options.extensions);
  cert.sign(options.signer, forge.md.sha256.create());
  return cert;
}

/** A fresh CA with a server and a client certificate (valid `days`, default 30). */
export function generatePki(days = 30): GeneratedPki {
  const ca = keyPair();
  const caCert = certificate({
    commonName: 'Simulated Huawei platform CA',
    publicKey: ca.publicKey,
    signer: ca.privateKey,
    days,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = keyPair();
  const serverCert = certificate({
    commonName: 'localhost',
    publicKey: server.publicKey,
    signer: ca.privateKey,
    issuer: caCert,
    days,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  const client = keyPair();
  const clientCert = certificate({
    commonName: 'ota-gateway',
    publicKey: client.publicKey,
    signer: ca.privateKey,
    issuer: caCert,
    days,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return {
    caCert: forge.pki.certificateToPem(caCert),
    serverCert: forge.pki.certificateToPem(serverCert),
    serverKey: server.privatePem,
    clientCert: forge.pki.certificateToPem(clientCert),
    clientKey: client.privatePem,
  };
}
