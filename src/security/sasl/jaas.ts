// A JAAS configuration entry as Kafka reads sasl.jaas.config:
//   org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s" user_alice="a";
// One login module, a control flag, then name=value options (values quoted with " or bare), ending in ';'.

import { ConfigError } from '../../config/config-error.js';

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export function parseJaasConfig(key: string, text: string): JaasEntry {
  const s = text.trim();
  const head = /^([A-Za-z0-9_.$]+)\s+(required|requisite|sufficient|optional)\b/.exec(s);
  if (head === null) {
    throw new ConfigError(key, 'expected "<LoginModule class> required name=\\"value\\" ...;"');
  }
  const options = new Map<string, string>();
  let rest = s.slice(head[0].length);
  for (;;) {
    rest = rest.trimStart();
    if (rest.startsWith(';')) {
      if (rest.slice(1).trim() !== '') throw new ConfigError(key, 'one login module per JAAS config');
      break;
    }
    if (rest === '') throw new ConfigError(key, 'a JAAS config ends with ";"');
    const m = /^([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:\\.|[^"\\])*)"|([^\s;"]+))/.exec(rest);
    if (m === null) throw new ConfigError(key, `cannot read the option at "${rest.slice(0, 20)}"`);
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string);
    options.set(m[1] as string, value);
    rest = rest.slice(m[0].length);
  }
  return { loginModule: head[1] as string, flag: head[2] as string, options };
}

/** The username and password options of a JAAS config (a client's or a broker's own login), or undefined. */
export function jaasLogin(key: string, text: string): { username: string; password: string } | undefined {
  const options = parseJaasConfig(key, text).options;
  const username = options.get('username');
  const password = options.get('password');
  return username === undefined || password === undefined ? undefined : { username, password };
}
