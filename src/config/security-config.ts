// Kafka's security keys (ssl.*, sasl.*) and their per-listener overrides (`listener.name.<l>.<key>`).
//
// A listener reads `listener.name.<listener, lower case>.<key>` first, then `<key>`, as Kafka does. The
// JAAS config of a SASL mechanism is read from `listener.name.<l>.<mechanism, lower case>.sasl.jaas.config`,
// then `listener.name.<l>.sasl.jaas.config`, then `sasl.jaas.config` (Kafka also reads a JAAS file named by
// the java.security.auth.login.config system property: Samsa does not).

import type { BrokerConfig } from './broker-config.js';

type Kind = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

interface Definition {
  kind: Kind;
  default: string | null;
  min?: number;
  max?: number;
  oneOf?: readonly string[];
}

/** The security keys Samsa implements, with Kafka's defaults unless noted. */
export const securityDefinitions: Record<string, Definition> = {
  // Kafka's default store type is JKS, which Node cannot read: PEM and PKCS12 are served (docs/security.md).
  'ssl.keystore.type': { kind: 'string', default: 'JKS', oneOf: ['JKS', 'PKCS12', 'PEM'] },
  'ssl.keystore.location': { kind: 'string', default: null },
  'ssl.keystore.password': { kind: 'string', default: null },
  'ssl.keystore.key': { kind: 'string', default: null },
  'ssl.keystore.certificate.chain': { kind: 'string', default: null },
  'ssl.key.password': { kind: 'string', default: null },
  'ssl.truststore.type': { kind: 'string', default: 'JKS', oneOf: ['JKS', 'PKCS12', 'PEM'] },
  'ssl.truststore.location': { kind: 'string', default: null },
  'ssl.truststore.password': { kind: 'string', default: null },
  'ssl.truststore.certificates': { kind: 'string', default: null },
  'ssl.client.auth': { kind: 'string', default: 'none', oneOf: ['none', 'requested', 'required'] },
  'ssl.principal.mapping.rules': { kind: 'string', default: 'DEFAULT' },
  'ssl.enabled.protocols': { kind: 'list', default: 'TLSv1.2,TLSv1.3' },
  'ssl.protocol': { kind: 'string', default: 'TLSv1.3' },
  'ssl.cipher.suites': { kind: 'list', default: '' },
  'ssl.endpoint.identification.algorithm': { kind: 'string', default: 'https' },
  // Kafka's default is GSSAPI (Kerberos), which Samsa does not serve: a SASL listener must name its mechanisms.
  'sasl.enabled.mechanisms': { kind: 'list', default: 'GSSAPI' },
  'sasl.mechanism.inter.broker.protocol': { kind: 'string', default: 'GSSAPI' },
  'sasl.jaas.config': { kind: 'string', default: null },
  'sasl.server.max.receive.size': { kind: 'int', default: '524288', min: 1 },
  'connections.max.reauth.ms': { kind: 'long', default: '0', min: 0 },
  'connection.failed.authentication.delay.ms': { kind: 'int', default: '100', min: 0 },
  // Authorization (src/security/authorizer.ts): unset = no authorizer, everything allowed.
  'authorizer.class.name': { kind: 'string', default: '' },
  'super.users': { kind: 'string', default: '' },
  'allow.everyone.if.no.acl.found': { kind: 'boolean', default: 'false' },
};

/** Keys that may be set per listener (`listener.name.<l>.<key>`). */
const perListener = new Set(Object.keys(securityDefinitions));

/**
 * The definition behind a `listener.name.<l>.<key>` key (or `listener.name.<l>.<mech>.sasl.jaas.config`),
 * or undefined when the key is not a per-listener security key.
 */
export function listenerKeyDefinition(key: string): Definition | undefined {
  const m = /^listener\.name\.([a-z0-9_]+)\.(.+)$/.exec(key);
  if (m === null) return undefined;
  const rest = m[2] as string;
  if (rest === 'max.connection.creation.rate') return { kind: 'int', default: '2147483647', min: 0 };
  if (perListener.has(rest)) return securityDefinitions[rest];
  if (/^[a-z0-9-]+\.sasl\.jaas\.config$/.test(rest)) return securityDefinitions['sasl.jaas.config'];
  return undefined;
}

/** The security settings one listener sees: its `listener.name.<l>.` overrides over the broker's keys. */
export class ListenerSecurityConfig {
  private readonly prefix: string;

  constructor(
    private readonly config: BrokerConfig,
    readonly listenerName: string,
  ) {
    this.prefix = `listener.name.${listenerName.toLowerCase()}.`;
  }

  /** The key's value for this listener, or null. */
  get(key: string): string | null {
    return this.config.get(this.prefix + key) ?? this.config.get(key);
  }

  /** The value, or the key's default. */
  string(key: string): string {
    const v = this.get(key);
    if (v !== null) return v;
    return securityDefinitions[key]?.default ?? '';
  }

  list(key: string): string[] {
    return this.string(key)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** Which key a value came from, for error messages. */
  keyOf(key: string): string {
    return this.config.has(this.prefix + key) ? this.prefix + key : key;
  }

  /** The JAAS config of a SASL mechanism on this listener, and the key it came from. */
  jaasConfig(mechanism: string): { key: string; value: string } | null {
    for (const key of [
      `${this.prefix}${mechanism.toLowerCase()}.sasl.jaas.config`,
      `${this.prefix}sasl.jaas.config`,
      'sasl.jaas.config',
    ]) {
      const value = this.config.get(key);
      if (value !== null) return { key, value };
    }
    return null;
  }
}

/** A config set for a log line: the values of sensitive keys replaced by [hidden]. */
export function redactSensitive(configs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(configs)) out[k] = isSensitiveKey(k) ? '[hidden]' : v;
  return out;
}

/** Keys whose values are secrets (Kafka's PASSWORD type): never logged, described as null. */
export function isSensitiveKey(key: string): boolean {
  return /(^|\.)(ssl\.keystore\.password|ssl\.key\.password|ssl\.truststore\.password|ssl\.keystore\.key|sasl\.jaas\.config)$/.test(
    key,
  );
}
