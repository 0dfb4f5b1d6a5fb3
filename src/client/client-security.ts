// A client's security from Kafka's client properties (a --command-config file, as Kafka's tools take):
//   security.protocol=SASL_SSL
//   ssl.truststore.type=PEM   ssl.truststore.location=/path/ca.pem   (or ssl.truststore.certificates=PEM text)
//   ssl.keystore.type=PEM     ssl.keystore.location=/path/client.pem (key + certificate chain; mTLS)
//   ssl.key.password=...      ssl.endpoint.identification.algorithm=   (empty: no host name check)
//   sasl.mechanism=SCRAM-SHA-512
//   sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";
// JKS and PKCS12 trust stores are not read (Node's TLS takes PEM); a PKCS12 key store is.

import { readFileSync } from 'node:fs';
import type * as tls from 'node:tls';
import { jaasLogin } from '../security/sasl/jaas.js';
import { PEM_CERT, PEM_KEY, pemBlocks } from '../security/tls.js';
import type { ClientSecurity } from './connection.js';

export class ClientConfigError extends Error {}

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ClientConfigError(`${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The security of Kafka client properties; undefined for PLAINTEXT. Throws ClientConfigError naming the key. */
export function clientSecurity(props: ReadonlyMap<string, string>): ClientSecurity | undefined {
  const protocol = (props.get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ClientConfigError(`security.protocol: must be one of ${PROTOCOLS.join(', ')}; got ${protocol}`);
  }
  if (protocol === 'PLAINTEXT') return undefined;
  const out: ClientSecurity = { protocol: protocol as ClientSecurity['protocol'] };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const t: tls.ConnectionOptions = {};
    const trustType = (props.get('ssl.truststore.type') ?? 'PEM').toUpperCase();
    const inlineCa = props.get('ssl.truststore.certificates');
    const caFile = props.get('ssl.truststore.location');
    if (inlineCa !== undefined) t.ca = inlineCa;
    else if (caFile !== undefined) {
      if (trustType !== 'PEM') {
        throw new ClientConfigError(`ssl.truststore.type: ${trustType} trust stores cannot be read; use PEM`);
      }
      t.ca = read(caFile, 'ssl.truststore.location');
    }
    const keyType = (props.get('ssl.keystore.type') ?? 'PEM').toUpperCase();
    const keyFile = props.get('ssl.keystore.location');
    const keyPassword = props.get('ssl.key.password');
    if (props.get('ssl.keystore.key') !== undefined) {
      t.key = props.get('ssl.keystore.key');
      t.cert = props.get('ssl.keystore.certificate.chain');
    } else if (keyFile !== undefined) {
      if (keyType === 'PKCS12') {
        t.pfx = read(keyFile, 'ssl.keystore.location');
        const pw = props.get('ssl.keystore.password');
        if (pw !== undefined) t.passphrase = pw;
      } else {
        const pem = read(keyFile, 'ssl.keystore.location').toString('utf8');
        t.key = pemBlocks(pem, PEM_KEY);
        t.cert = pemBlocks(pem, PEM_CERT).join('\n');
      }
    }
    if (keyPassword !== undefined) t.passphrase = keyPassword;
    if ((props.get('ssl.endpoint.identification.algorithm') ?? 'https') === '') {
      t.checkServerIdentity = () => undefined;
    }
    out.tls = t;
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = (props.get('sasl.mechanism') ?? 'GSSAPI').toUpperCase();
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ClientConfigError(`sasl.mechanism: ${mechanism} is not supported (${MECHANISMS.join(', ')})`);
    }
    const jaas = props.get('sasl.jaas.config');
    if (jaas === undefined)
      throw new ClientConfigError('sasl.jaas.config: needed for SASL (username and password)');
    let login: ReturnType<typeof jaasLogin>;
    try {
      login = jaasLogin('sasl.jaas.config', jaas);
    } catch (err) {
      throw new ClientConfigError((err as Error).message);
    }
    if (login === undefined) {
      throw new ClientConfigError('sasl.jaas.config: needs username="..." and password="..."');
    }
    out.sasl = { mechanism: mechanism as (typeof MECHANISMS)[number], ...login };
  }
  return out;
}
