// What the registry answers, independent of HTTP: reads from the state after reading `_schemas` to its end,
// writes (on the leader only; http.ts forwards a follower's writes) computed from an up-to-date state and
// appended to `_schemas` one at a time.

import type avro from 'avsc';
import { registryParsedSchemasMax } from '../limits.js';
import {
  type CompatibilityLevel,
  compatibilityErrors,
  isCompatibilityLevel,
  type PriorSchema,
  parseAvro,
} from './avro.js';
import {
  RegistryErrorCode as E,
  invalidCompatibility,
  invalidMode,
  invalidSchema,
  invalidVersion,
  notPermitted,
  RegistryError,
  schemaNotFound,
  subjectNotFound,
  versionNotFound,
} from './errors.js';
import { encodeKey, encodeSchemaValue, type SchemaValue } from './records.js';
import { DEFAULT_COMPATIBILITY, isMode, type Mode } from './state.js';
import type { KafkaStore } from './store.js';

export interface SchemaRequest {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
  id?: unknown;
  version?: unknown;
}

/** A version path parameter: 'latest' or -1, else 1..2^31-1. */
export function parseVersion(v: string): number | 'latest' {
  if (v === 'latest' || v === '-1') return 'latest';
  if (!/^\d+$/.test(v)) throw invalidVersion(v);
  const n = Number(v);
  if (n < 1 || n > 2 ** 31 - 1) throw invalidVersion(v);
  return n;
}

/** The schema of a request body, parsed; 42201 for anything this registry cannot take. */
function parseRequestSchema(body: SchemaRequest) {
  if (typeof body.schema !== 'string')
    throw invalidSchema('Invalid schema: the request has no "schema" string');
  const type = body.schemaType ?? 'AVRO';
  if (type !== 'AVRO') {
    throw invalidSchema(`Invalid schema type ${String(type)}: this registry supports AVRO only`);
  }
  if (Array.isArray(body.references) && body.references.length > 0) {
    throw invalidSchema('Invalid schema: schema references are not supported by this registry');
  }
  try {
    return parseAvro(body.schema);
  } catch (e) {
    throw invalidSchema((e as Error).message);
  }
}

export class RegistryService {
  /** Writes run one after another on the leader. */
  private writeChain: Promise<unknown> = Promise.resolve();
  /** Parsed stored schemas, for compatibility checks (a subject's history is parsed once, not per request). */
  private readonly types = new Map<string, avro.Type>();

  constructor(readonly store: KafkaStore) {}

  private get state() {
    return this.store.state;
  }

  /** Reads answer from a state that has read `_schemas` up to the end it had when the request came. */
  async read<T>(fn: () => T): Promise<T> {
    await this.store.sync();
    return fn();
  }

  /** Runs a write on the leader: serialized, from an up-to-date state. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(
      async () => {
        await this.store.sync();
        return fn();
      },
      async () => {
        await this.store.sync();
        return fn();
      },
    );
    this.writeChain = run.catch(() => {});
    return run;
  }

  /** The prior versions as avsc types, from the cache. */
  private prior(versions: SchemaValue[]): PriorSchema[] {
    // Versions of other schema types (written by a Confluent registry) are not Avro's to judge.
    return versions
      .filter((v) => (v.schemaType ?? 'AVRO') === 'AVRO')
      .map((v) => {
        let type = this.types.get(v.schema);
        if (type === undefined) {
          try {
            type = parseAvro(v.schema).type;
          } catch (e) {
            throw new RegistryError(
              E.STORE_ERROR,
              `Stored schema of subject '${v.subject}' version ${v.version} cannot be read: ${(e as Error).message}`,
            );
          }
          if (this.types.size >= registryParsedSchemasMax) this.types.clear();
          this.types.set(v.schema, type);
        }
        return { version: v.version, type };
      });
  }

  // --- reads ---

  subjects(deleted: boolean, prefix: string): string[] {
    return this.state.subjectNames(deleted).filter((s) => s.startsWith(prefix));
  }

  versionNumbers(subject: string, deleted: boolean): number[] {
    const vs = this.state.versions(subject, deleted);
    if (vs.length === 0) throw subjectNotFound(subject);
    return vs.map((v) => v.version);
  }

  getVersion(subject: string, version: string, deleted: boolean): SchemaValue {
    const v = parseVersion(version);
    if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
    if (v === 'latest') {
      const live = this.state.versions(subject, deleted);
      const last = live[live.length - 1];
      if (last === undefined) throw subjectNotFound(subject);
      return last;
    }
    const e = this.state.version(subject, v);
    if (e === undefined || (e.deleted && !deleted)) throw versionNotFound(v);
    return e;
  }

  schemaById(id: number): { schema: string; schemaType: string } {
    const s = this.state.schemaById(id);
    if (s === undefined) throw schemaNotFound();
    return s;
  }

  usesOf(id: number, deleted: boolean): SchemaValue[] {
    this.schemaById(id);
    return this.state.usesOf(id, deleted);
  }

  lookup(subject: string, body: SchemaRequest, deleted: boolean): SchemaValue {
    const parsed = parseRequestSchema(body);
    if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
    const match = this.state
      .versions(subject, deleted)
      .filter((v) => v.canonical === parsed.canonical)
      .pop();
    if (match === undefined) throw schemaNotFound();
    return match;
  }

  testCompatibility(subject: string, version: string | null, body: SchemaRequest): string[] {
    const parsed = parseRequestSchema(body);
    const level = this.state.effectiveCompatibility(subject);
    let prior: SchemaValue[];
    if (version === null) {
      prior = this.state.versions(subject, false);
    } else {
      if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
      prior = [this.getVersion(subject, version, false)];
    }
    return compatibilityErrors(level, parsed.type, this.prior(prior));
  }

  getConfig(subject: string | null, defaultToGlobal: boolean): CompatibilityLevel {
    if (subject === null) return this.state.compatibility(null) ?? DEFAULT_COMPATIBILITY;
    const own = this.state.compatibility(subject);
    if (own !== undefined) return own;
    if (defaultToGlobal) return this.state.effectiveCompatibility(subject);
    throw new RegistryError(
      E.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level compatibility configured`,
    );
  }

  getMode(subject: string | null, defaultToGlobal: boolean): Mode {
    if (subject === null) return this.state.effectiveMode(null);
    const own = this.state.mode(subject);
    if (own !== undefined) return own;
    if (defaultToGlobal) return this.state.effectiveMode(subject);
    throw new RegistryError(
      E.SUBJECT_LEVEL_MODE_NOT_CONFIGURED,
      `Subject '${subject}' does not have subject-level mode configured`,
    );
  }

  // --- writes (leader only) ---

  private checkWritable(subject: string | null): Mode {
    const mode = this.state.effectiveMode(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') {
      throw notPermitted(
        subject === null ? 'The registry is in read-only mode' : `Subject ${subject} is in read-only mode`,
      );
    }
    return mode;
  }

  /** Registers a schema under a subject: the id of the schema (existing or new). */
  async register(subject: string, body: SchemaRequest): Promise<number> {
    const mode = this.checkWritable(subject);
    const parsed = parseRequestSchema(body);
    const live = this.state.versions(subject, false);
    const importing = mode === 'IMPORT';
    if (!importing && body.id !== undefined && body.id !== null && Number(body.id) >= 0) {
      throw notPermitted(`Subject ${subject} is not in import mode`);
    }
    const same = live.find((v) => v.canonical === parsed.canonical);
    if (same !== undefined && (!importing || body.id === undefined || body.id === same.id)) return same.id;
    if (!importing) {
      const errors = compatibilityErrors(
        this.state.effectiveCompatibility(subject),
        parsed.type,
        this.prior(live),
      );
      if (errors.length > 0) {
        throw new RegistryError(
          E.INCOMPATIBLE_SCHEMA,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${errors.join('; ')}]`,
        );
      }
    }
    let id = this.state.idOf(parsed.canonical) ?? this.state.maxId + 1;
    let version = this.state.maxVersion(subject) + 1;
    if (importing) {
      if (!Number.isInteger(body.id) || (body.id as number) < 1) {
        throw notPermitted(`Subject ${subject} is in import mode: the request needs an "id"`);
      }
      id = body.id as number;
      const held = this.state.schemaById(id);
      if (held !== undefined && held.canonical !== parsed.canonical) {
        throw new RegistryError(E.ID_DOES_NOT_MATCH, `Overwrite new schema with id ${id} is not permitted.`);
      }
      if (body.version !== undefined) {
        if (!Number.isInteger(body.version) || (body.version as number) < 1)
          throw invalidVersion(String(body.version));
        version = body.version as number;
      }
    }
    await this.store.write(
      encodeKey({ keytype: 'SCHEMA', subject, version }),
      encodeSchemaValue({ subject, version, id, schema: parsed.stored, deleted: false }),
    );
    return id;
  }

  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    this.checkWritable(subject);
    const all = this.state.versions(subject, true);
    if (all.length === 0) throw subjectNotFound(subject);
    const live = all.filter((v) => !v.deleted);
    if (!permanent) {
      if (live.length === 0) {
        throw new RegistryError(
          E.SUBJECT_SOFT_DELETED,
          `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      for (const v of live) {
        await this.store.write(
          encodeKey({ keytype: 'SCHEMA', subject, version: v.version }),
          encodeSchemaValue({ ...v, deleted: true }),
        );
      }
      const last = live[live.length - 1] as SchemaValue;
      await this.store.write(
        encodeKey({ keytype: 'DELETE_SUBJECT', subject }),
        JSON.stringify({ subject, version: last.version }),
      );
      return live.map((v) => v.version);
    }
    if (live.length > 0) {
      throw new RegistryError(
        E.SUBJECT_NOT_SOFT_DELETED,
        `Subject '${subject}' was not deleted first before being permanently deleted`,
      );
    }
    await this.store.write(encodeKey({ keytype: 'CLEAR_SUBJECT', subject }), JSON.stringify({ subject }));
    for (const v of all) {
      await this.store.write(encodeKey({ keytype: 'SCHEMA', subject, version: v.version }), null);
    }
    return all.map((v) => v.version);
  }

  async deleteVersion(subject: string, version: string, permanent: boolean): Promise<number> {
    const parsed = parseVersion(version);
    this.checkWritable(subject);
    if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
    const v =
      parsed === 'latest'
        ? this.state.versions(subject, permanent).pop()
        : this.state.version(subject, parsed);
    if (v === undefined) throw versionNotFound(parsed);
    if (!permanent) {
      if (v.deleted) {
        throw new RegistryError(
          E.SCHEMA_VERSION_SOFT_DELETED,
          `Subject '${subject}' Version ${v.version} was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      await this.store.write(
        encodeKey({ keytype: 'SCHEMA', subject, version: v.version }),
        encodeSchemaValue({ ...v, deleted: true }),
      );
      return v.version;
    }
    if (!v.deleted) {
      throw new RegistryError(
        E.SCHEMA_VERSION_NOT_SOFT_DELETED,
        `Subject '${subject}' Version ${v.version} was not deleted first before being permanently deleted`,
      );
    }
    await this.store.write(encodeKey({ keytype: 'SCHEMA', subject, version: v.version }), null);
    return v.version;
  }

  async putConfig(subject: string | null, body: Record<string, unknown>): Promise<CompatibilityLevel> {
    const level = body.compatibility ?? body.compatibilityLevel;
    const upper = typeof level === 'string' ? level.toUpperCase() : level;
    if (!isCompatibilityLevel(upper)) throw invalidCompatibility();
    await this.store.write(
      encodeKey({ keytype: 'CONFIG', subject }),
      JSON.stringify({ compatibilityLevel: upper }),
    );
    return upper;
  }

  async deleteConfig(subject: string | null): Promise<CompatibilityLevel> {
    const before = subject === null ? this.getConfig(null, false) : this.state.compatibility(subject);
    if (before === undefined) {
      if (subject !== null && !this.state.hasSubject(subject)) throw subjectNotFound(subject);
      return this.state.effectiveCompatibility(subject as string);
    }
    await this.store.write(encodeKey({ keytype: 'CONFIG', subject }), null);
    return before;
  }

  async putMode(subject: string | null, body: Record<string, unknown>, force: boolean): Promise<Mode> {
    const mode = typeof body.mode === 'string' ? body.mode.toUpperCase() : body.mode;
    if (!isMode(mode)) throw invalidMode();
    if (mode === 'IMPORT' && !force) {
      const nonEmpty =
        subject === null
          ? this.state.subjectNames(false).length > 0
          : this.state.versions(subject, false).length > 0;
      if (nonEmpty) throw notPermitted('Cannot import since found existing subjects');
    }
    await this.store.write(encodeKey({ keytype: 'MODE', subject }), JSON.stringify({ mode }));
    return mode;
  }

  async deleteMode(subject: string | null): Promise<Mode> {
    const before = this.state.mode(subject);
    if (before === undefined) {
      if (subject !== null && !this.state.hasSubject(subject)) throw subjectNotFound(subject);
      return this.state.effectiveMode(subject);
    }
    await this.store.write(encodeKey({ keytype: 'MODE', subject }), null);
    return before;
  }
}
