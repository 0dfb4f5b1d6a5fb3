/**
 * A throwaway PKI for TLS tests, made with the openssl command line: a CA, a broker certificate for 127.0.0.1
 * and localhost, and a client certificate (CN=alice,OU=clients,O=samsa). Files in `dir`:
 * ca.pem, broker.pem (key + certificate chain, Kafka's PEM key store), broker-key.pem, broker-cert.pem,
 * client.pem, client-key.pem, client-cert.pem, and a PKCS12 key store broker.p12 (password "changeit").
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
  const leaf = (name: string, subj: string, ext: string): void => {
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        subj,
        '-keyout',
        `${name}-key.pem`,
        '-out',
        `${name}.csr`,
      ],
      dir,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
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
    writeFileSync(
      join(dir, `${name}.pem`),
      readFileSync(join(dir, `${name}-key.pem`), 'utf8') +
        readFileSync(join(dir, `${name}-cert.pem`), 'utf8'),
    );
  };
  leaf('broker', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', '/O=samsa/OU=clients/CN=alice', 'extendedKeyUsage=clientAuth\n');
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
