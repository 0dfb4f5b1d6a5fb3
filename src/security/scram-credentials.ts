// The SCRAM credentials this broker authenticates against: a cache of the user entities' configs (Kafka's
// /config/users/<user> in ZooKeeper, `userConfigs` in the local metadata store), keyed by mechanism name as
// Kafka stores them: "SCRAM-SHA-256" -> "salt=...,stored_key=...,server_key=...,iterations=4096".
// One owner: the broker fills it at start-up and on every change (its own writes, ZooKeeper notifications).

import {
  type CredentialLookup,
  parseCredential,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
} from './sasl/scram.js';

export class ScramCredentialCache {
  private readonly users = new Map<string, Map<ScramMechanism, ScramCredential>>();

  readonly lookup: CredentialLookup = (user, mechanism) => this.users.get(user)?.get(mechanism);

  /** A user's entity configs changed (empty: the user has none left). */
  setUserConfigs(user: string, configs: Readonly<Record<string, string>>): void {
    const creds = new Map<ScramMechanism, ScramCredential>();
    for (const m of SCRAM_MECHANISMS) {
      const text = configs[m];
      const c = text === undefined ? undefined : parseCredential(text);
      if (c !== undefined) creds.set(m, c);
    }
    if (creds.size === 0) this.users.delete(user);
    else this.users.set(user, creds);
  }

  /** Users with credentials, sorted, and their mechanisms with iteration counts. */
  describe(): { user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[] {
    return [...this.users.keys()].sort().map((user) => ({ user, credentials: this.credentialsOf(user) }));
  }

  credentialsOf(user: string): { mechanism: ScramMechanism; iterations: number }[] {
    return [...(this.users.get(user) ?? new Map<ScramMechanism, ScramCredential>())].map(
      ([mechanism, c]) => ({
        mechanism,
        iterations: c.iterations,
      }),
    );
  }
}
