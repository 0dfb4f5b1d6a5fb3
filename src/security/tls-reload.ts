// Certificate reload without a restart, as Kafka's DynamicBrokerConfig does it for its SslFactory: the key store
// and trust store keys of a TLS listener (ssl.keystore.*, ssl.key.password, ssl.truststore.*, plain or with the
// listener.name.<l>. prefix) are dynamic per-broker configs. Altering them (even to the same value: the files are
// read again) builds each TLS listener's context from the new effective configuration; new connections use it,
// connections already open keep theirs.
//
// Before the change is stored, the new material is checked: it must load (key and certificate match, files
// readable, PEM well formed) and, as Kafka's SslFactory insists, the new certificate must name the same subject
// and subject alternative names as the one served now, so a client's host name check keeps passing. A refusal
// leaves the served certificate as it was.

import { X509Certificate } from 'node:crypto';
import type { BrokerConfig } from '../config/broker-config.js';
import { ConfigError } from '../config/config-error.js';
import { parseProtocolMap, protocolOf } from '../config/listeners.js';
import { ListenerSecurityConfig } from '../config/security-config.js';
import { keyMaterial, PEM_CERT, pemBlocks, type ServerTls, serverTls } from './tls.js';

/** The names of the listeners that serve TLS (SSL, SASL_SSL). */
export function tlsListeners(config: BrokerConfig): string[] {
  const map = parseProtocolMap(config.string('listener.security.protocol.map'));
  return config
    .listeners()
    .map((l) => l.name)
    .filter((name) => {
      const p = protocolOf(name, map);
      return p === 'SSL' || p === 'SASL_SSL';
    });
}

/** The served certificate (the first of the chain) of a listener's PEM key material, or null (PKCS12). */
function leafCertificate(cfg: ListenerSecurityConfig): X509Certificate | null {
  const m = keyMaterial(cfg);
  const cert = typeof m.cert === 'string' ? m.cert : Buffer.isBuffer(m.cert) ? m.cert.toString('utf8') : null;
  const first = cert === null ? undefined : pemBlocks(cert, PEM_CERT)[0];
  return first === undefined ? null : new X509Certificate(first);
}

/**
 * Why the TLS material of `next` cannot replace that of `current`, or null when every TLS listener's loads and
 * keeps its certificate's subject and subject alternative names.
 */
export function tlsReloadProblem(current: BrokerConfig, next: BrokerConfig): string | null {
  for (const name of tlsListeners(next)) {
    const cfg = new ListenerSecurityConfig(next, name);
    try {
      serverTls(cfg);
      const before = leafCertificate(new ListenerSecurityConfig(current, name));
      const after = leafCertificate(cfg);
      if (before !== null && after !== null) {
        if (before.subject !== after.subject) {
          return `Validation of dynamic config update of SSLFactory failed for listener ${name}: Keystore DistinguishedName does not match: existing={${before.subject.replace(/\n/g, ', ')}}, new={${after.subject.replace(/\n/g, ', ')}}`;
        }
        if ((before.subjectAltName ?? '') !== (after.subjectAltName ?? '')) {
          return `Validation of dynamic config update of SSLFactory failed for listener ${name}: Keystore SubjectAltNames do not match: existing={${before.subjectAltName ?? ''}}, new={${after.subjectAltName ?? ''}}`;
        }
      }
    } catch (err) {
      const why = err instanceof ConfigError ? err.message : (err as Error).message;
      return `Validation of dynamic config update of SSLFactory failed for listener ${name}: ${why}`;
    }
  }
  return null;
}

/** The SHA-256 fingerprint of a listener's served certificate (for the log line), or '' when not PEM. */
export function certificateFingerprint(config: BrokerConfig, listenerName: string): string {
  try {
    return leafCertificate(new ListenerSecurityConfig(config, listenerName))?.fingerprint256 ?? '';
  } catch {
    return '';
  }
}

/** A listener's server TLS from the configuration (throws ConfigError naming the key). */
export function reloadedTls(config: BrokerConfig, listenerName: string): ServerTls {
  return serverTls(new ListenerSecurityConfig(config, listenerName));
}
