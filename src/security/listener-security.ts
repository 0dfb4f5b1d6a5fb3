// What a listener requires of its connections: its security protocol, its TLS context, its SASL mechanisms.
// Built once per listener at start-up from Kafka's keys (per listener: listener.name.<l>.<key>); every error is
// a ConfigError naming the key, so the broker refuses to start with one line saying what is wrong.

import { ConfigError } from '../config/config-error.js';
import type { ListenerSecurityConfig } from '../config/security-config.js';
import { parseJaasConfig } from './sasl/jaas.js';
import { plainUsers } from './sasl/plain.js';
import { type CredentialLookup, SCRAM_MECHANISMS, type ScramMechanism } from './sasl/scram.js';
import { type ServerTls, serverTls } from './tls.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export const SASL_MECHANISMS = ['PLAIN', ...SCRAM_MECHANISMS] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface ListenerSasl {
  mechanisms: readonly SaslMechanism[];
  /** PLAIN's users (user_<name> options of the listener's PlainLoginModule), when PLAIN is enabled. */
  plainUsers: ReadonlyMap<string, string>;
  scram: CredentialLookup;
  /** connections.max.reauth.ms: 0 for sessions that never expire. */
  reauthMs: number;
  /** sasl.server.max.receive.size: the largest SASL token accepted before authentication. */
  maxReceiveSize: number;
  /** connection.failed.authentication.delay.ms: a failed client's connection is closed after this delay. */
  failedAuthDelayMs: number;
}

export interface ListenerSecurity {
  listenerName: string;
  protocol: SecurityProtocol;
  tls: ServerTls | null;
  sasl: ListenerSasl | null;
}

export const PLAINTEXT_SECURITY = (listenerName: string): ListenerSecurity => ({
  listenerName,
  protocol: 'PLAINTEXT',
  tls: null,
  sasl: null,
});

function saslOf(cfg: ListenerSecurityConfig, scram: CredentialLookup): ListenerSasl {
  const key = cfg.keyOf('sasl.enabled.mechanisms');
  const mechanisms = cfg.list('sasl.enabled.mechanisms').map((m) => m.toUpperCase());
  if (mechanisms.length === 0)
    throw new ConfigError(key, `listener ${cfg.listenerName} uses SASL: name its mechanisms`);
  for (const m of mechanisms) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(m)) {
      throw new ConfigError(
        key,
        `${m} is not served (Samsa serves ${SASL_MECHANISMS.join(', ')}); set ${key} for listener ${cfg.listenerName}`,
      );
    }
  }
  let users = new Map<string, string>();
  if (mechanisms.includes('PLAIN')) {
    const jaas = cfg.jaasConfig('PLAIN');
    if (jaas === null) {
      throw new ConfigError(
        `listener.name.${cfg.listenerName.toLowerCase()}.plain.sasl.jaas.config`,
        'PLAIN needs a PlainLoginModule JAAS config with user_<name>="<password>" entries',
      );
    }
    const entry = parseJaasConfig(jaas.key, jaas.value);
    if (!entry.loginModule.endsWith('PlainLoginModule')) {
      throw new ConfigError(
        jaas.key,
        `PLAIN needs org.apache.kafka.common.security.plain.PlainLoginModule; got ${entry.loginModule}`,
      );
    }
    users = plainUsers(entry.options);
  }
  for (const m of mechanisms) {
    if (!m.startsWith('SCRAM-')) continue;
    const jaas = cfg.jaasConfig(m);
    // The broker's own JAAS entry for SCRAM holds only its inter-broker login; its module must be Scram's.
    if (
      jaas !== null &&
      !parseJaasConfig(jaas.key, jaas.value).loginModule.endsWith('ScramLoginModule') &&
      jaas.key.includes(m.toLowerCase())
    ) {
      throw new ConfigError(jaas.key, `${m} needs org.apache.kafka.common.security.scram.ScramLoginModule`);
    }
  }
  return {
    mechanisms: mechanisms as SaslMechanism[],
    plainUsers: users,
    scram,
    reauthMs: Number(cfg.string('connections.max.reauth.ms')),
    maxReceiveSize: Number(cfg.string('sasl.server.max.receive.size')),
    failedAuthDelayMs: Number(cfg.string('connection.failed.authentication.delay.ms')),
  };
}

/** The security of one listener, checked. */
export function listenerSecurity(
  cfg: ListenerSecurityConfig,
  protocol: SecurityProtocol,
  scram: CredentialLookup,
): ListenerSecurity {
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  return {
    listenerName: cfg.listenerName,
    protocol,
    tls: usesTls ? serverTls(cfg) : null,
    sasl: usesSasl ? saslOf(cfg, scram) : null,
  };
}

export function isScram(m: string): m is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(m);
}
