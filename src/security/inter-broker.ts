// How this broker connects to the others (replica fetchers, the controller's requests, transaction markers):
// over inter.broker.listener.name (else the first listener) with that listener's security, as Kafka does.
//   SSL / SASL_SSL: the listener's trust store verifies the other brokers; its key store is this broker's client
//     certificate (for listeners with ssl.client.auth); ssl.endpoint.identification.algorithm=https (Kafka's
//     default) checks the host name against the certificate, empty turns that off.
//   SASL_*: sasl.mechanism.inter.broker.protocol, with the username and password of that mechanism's JAAS
//     config on the listener (listener.name.<l>.<mechanism>.sasl.jaas.config).

import type { ConnectionOptions } from 'node:tls';
import type { ClientSecurity } from '../client/connection.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { ConfigError } from '../config/config-error.js';
import { parseProtocolMap, protocolOf } from '../config/listeners.js';
import { ListenerSecurityConfig } from '../config/security-config.js';
import { isScram } from './listener-security.js';
import { jaasLogin } from './sasl/jaas.js';
import { keyMaterial, trustedCertificates } from './tls.js';

/** The inter-broker listener's name: inter.broker.listener.name, else the first listener's. */
export function interBrokerListenerName(config: BrokerConfig): string {
  return config.get('inter.broker.listener.name') ?? config.listeners()[0]?.name ?? 'PLAINTEXT';
}

/** The client side of the inter-broker listener; undefined for PLAINTEXT. Throws ConfigError naming the key. */
export function interBrokerSecurity(config: BrokerConfig): ClientSecurity | undefined {
  const name = interBrokerListenerName(config);
  const protocol = protocolOf(name, parseProtocolMap(config.string('listener.security.protocol.map')));
  if (protocol === 'PLAINTEXT') return undefined;
  const cfg = new ListenerSecurityConfig(config, name);
  const out: ClientSecurity = { protocol: protocol as ClientSecurity['protocol'] };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const t: ConnectionOptions = {};
    const ca = trustedCertificates(cfg);
    if (ca !== undefined) t.ca = ca;
    // This broker's own certificate, for listeners that ask for client certificates.
    if (cfg.get('ssl.keystore.key') !== null || cfg.get('ssl.keystore.location') !== null)
      Object.assign(t, keyMaterial(cfg));
    if (cfg.string('ssl.endpoint.identification.algorithm') === '') t.checkServerIdentity = () => undefined;
    out.tls = t;
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const key = 'sasl.mechanism.inter.broker.protocol';
    const mechanism = config.string(key).toUpperCase();
    if (mechanism !== 'PLAIN' && !isScram(mechanism)) {
      throw new ConfigError(
        key,
        `${mechanism} is not served; the inter-broker listener ${name} uses SASL: set PLAIN or SCRAM-SHA-256/512`,
      );
    }
    const jaas = cfg.jaasConfig(mechanism);
    if (jaas === null) {
      throw new ConfigError(
        `listener.name.${name.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`,
        'the inter-broker login (username="..." password="...") is missing',
      );
    }
    const login = jaasLogin(jaas.key, jaas.value);
    if (login === undefined) {
      throw new ConfigError(jaas.key, 'the inter-broker login needs username="..." and password="..."');
    }
    out.sasl = { mechanism: mechanism as 'PLAIN', ...login };
  }
  return out;
}
