/**
 * A throwaway PKI for TLS tests, made with the openssl command line: a CA, a broker certificate for 127.0.0.1
 * and localhost, and a client certificate (CN=alice,OU=clients,O=samsa). Files in `dir`:
 * ca.pem, broker.pem (key + certificate chain, Kafka's PEM key store), broker-key.pem, broker-cert.pem,
 * client.pem, client-key.pem, client-cert.pem, and a PKCS12 key store broker.p12 (password "changeit").
 * issueCert signs more certificates with the same CA (e.g. a second broker certificate, or one for another CN).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  ca: string;
  brokerKeystore: string;
  brokerP12: string;
  clientKey: string;
  clientCert: string;
  /** PEM text of the CA certificate. */
  caPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** X.509 extensions of a broker certificate: valid for 127.0.0.1 and localhost, for TLS servers. */
export const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
/** X.509 extensions of a client certificate. */
export const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth\n';

export interface IssuedCert {
  /** Key + certificate, Kafka's PEM key store. */
  keystore: string;
  key: string;
  cert: string;
  /** PEM text of the certificate. */
  certPem: string;
}

/**
 * A new key and certificate for `subject`, signed by the CA of the PKI in `dir` (made by makeTestPki), each
 * with the next serial number. Files in `dir`: `${name}.pem` (key + certificate), `${name}-key.pem`,
 * `${name}-cert.pem`.
 */
export function issueCert(
  dir: string,
  name: string,
  subject: string,
  extensions = SERVER_EXTENSIONS,
): IssuedCert {
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    ],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}-cert.pem`,
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  const certPem = readFileSync(cert, 'utf8');
  const keystore = join(dir, `${name}.pem`);
  writeFileSync(keystore, readFileSync(key, 'utf8') + certPem);
  return { keystore, key, cert, certPem };
}

export function makeTestPki(dir: string): TestPki {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=samsa-test-ca',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
    ],
    dir,
  );
  issueCert(dir, 'broker', '/CN=localhost');
  issueCert(dir, 'client', '/O=samsa/OU=clients/CN=alice', CLIENT_EXTENSIONS);
  openssl(
    [
      'pkcs12',
      '-export',
      '-in',
      'broker-cert.pem',
      '-inkey',
      'broker-key.pem',
      '-out',
      'broker.p12',
      '-passout',
      'pass:changeit',
    ],
    dir,
  );
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    brokerKeystore: join(dir, 'broker.pem'),
    brokerP12: join(dir, 'broker.p12'),
    clientKey: join(dir, 'client-key.pem'),
    clientCert: join(dir, 'client-cert.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
  };
}
