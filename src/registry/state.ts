// The registry's view of `_schemas`: every record read from the topic, in offset order, is applied here,
// and every answer is computed from here. One owner: the store's reader loop calls apply(); handlers only
// read (and the leader computes a write from a view that has read the whole topic first).
//
// Ids: a schema's id is shared by every subject version holding the same schema (Confluent's behaviour),
// compared in avro.ts's comparison form (canonicalOf), so a schema text written by a Confluent registry
// (Java's Schema.toString) and the same schema registered here are one schema. The next id is one more than
// the largest id ever read (maxId never goes down, even when a hard delete removed the schema holding it).

import type { Logger } from '../logger.js';
import { type CompatibilityLevel, isCompatibilityLevel, parseAvro } from './avro.js';
import { asSchemaValue, decodeKey, decodeValue, type SchemaValue } from './records.js';

export const modes = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof modes)[number];
export const isMode = (s: unknown): s is Mode =>
  typeof s === 'string' && (modes as readonly string[]).includes(s);

/**
 * The form schemas are compared in: avro.ts's comparison form (ParsedSchema.canonical) for Avro; the text
 * itself for other types, or when it cannot be parsed.
 */
export function canonicalOf(schema: string, schemaType: string): string {
  if (schemaType !== 'AVRO') return `${schemaType}:${schema}`;
  try {
    return parseAvro(schema).canonical;
  } catch {
    return schema;
  }
}

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export class RegistryState {
  /** subject -> version -> entry (soft-deleted ones included). */
  private readonly subjects = new Map<string, Map<number, SchemaValue>>();
  /** id -> schema text, while some version (soft-deleted included) holds it. */
  private readonly byId = new Map<
    number,
    { schema: string; canonical: string; schemaType: string; refs: Set<string> }
  >();
  /** comparison form (canonicalOf) -> id. */
  private readonly idByText = new Map<string, number>();
  maxId = 0;
  globalCompatibility: CompatibilityLevel | null = null;
  globalMode: Mode | null = null;
  private readonly subjectCompatibility = new Map<string, CompatibilityLevel>();
  private readonly subjectMode = new Map<string, Mode>();
  /** Records applied (for tests and logs). */
  applied = 0;

  constructor(private readonly log: Logger) {}

  /** Applies one record of `_schemas`; a record it cannot read is logged and skipped. */
  apply(keyBytes: Buffer | null, valueBytes: Buffer | null, offset: number): void {
    this.applied++;
    const key = decodeKey(keyBytes);
    if (key === null) {
      this.log.warn('skipping a _schemas record with an unknown key', { offset });
      return;
    }
    let value: Record<string, unknown> | null;
    try {
      value = decodeValue(valueBytes);
    } catch (e) {
      this.log.warn('skipping a _schemas record whose value is not a JSON object', { offset, error: e });
      return;
    }
    switch (key.keytype) {
      case 'SCHEMA': {
        if (value === null) {
          this.removeVersion(key.subject, key.version);
          return;
        }
        const v = asSchemaValue(value);
        if (v === null || v.subject !== key.subject || v.version !== key.version) {
          this.log.warn('skipping a SCHEMA record whose value does not match its key', { offset });
          return;
        }
        this.putVersion(v);
        return;
      }
      case 'CONFIG': {
        const level = value?.compatibilityLevel ?? value?.compatibility;
        if (value !== null && !isCompatibilityLevel(level)) {
          this.log.warn('skipping a CONFIG record with an unknown compatibility level', { offset });
          return;
        }
        if (key.subject === null)
          this.globalCompatibility = value === null ? null : (level as CompatibilityLevel);
        else if (value === null) this.subjectCompatibility.delete(key.subject);
        else this.subjectCompatibility.set(key.subject, level as CompatibilityLevel);
        return;
      }
      case 'MODE': {
        const mode = value?.mode;
        if (value !== null && !isMode(mode)) {
          this.log.warn('skipping a MODE record with an unknown mode', { offset });
          return;
        }
        if (key.subject === null) this.globalMode = value === null ? null : (mode as Mode);
        else if (value === null) this.subjectMode.delete(key.subject);
        else this.subjectMode.set(key.subject, mode as Mode);
        return;
      }
      case 'DELETE_SUBJECT': {
        // Confluent's meaning: every version up to `version` is soft-deleted (the SCHEMA records say so too).
        const upTo = typeof value?.version === 'number' ? value.version : Number.MAX_SAFE_INTEGER;
        for (const e of this.subjects.get(key.subject)?.values() ?? []) {
          if (e.version <= upTo) e.deleted = true;
        }
        return;
      }
      case 'CLEAR_SUBJECT':
      case 'NOOP':
        return;
    }
  }

  private putVersion(v: SchemaValue): void {
    const prior = this.subjects.get(v.subject)?.get(v.version);
    if (prior !== undefined) this.removeVersion(v.subject, v.version);
    let versions = this.subjects.get(v.subject);
    if (versions === undefined) {
      versions = new Map();
      this.subjects.set(v.subject, versions);
    }
    versions.set(v.version, v);
    const ref = `${v.subject}\u0000${v.version}`;
    let s = this.byId.get(v.id);
    if (s === undefined) {
      const schemaType = v.schemaType ?? 'AVRO';
      s = { schema: v.schema, canonical: canonicalOf(v.schema, schemaType), schemaType, refs: new Set() };
      this.byId.set(v.id, s);
    }
    s.refs.add(ref);
    v.canonical = s.canonical;
    if (!this.idByText.has(s.canonical)) this.idByText.set(s.canonical, v.id);
    if (v.id > this.maxId) this.maxId = v.id;
  }

  private removeVersion(subject: string, version: number): void {
    const versions = this.subjects.get(subject);
    const v = versions?.get(version);
    if (versions === undefined || v === undefined) return;
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    const s = this.byId.get(v.id);
    if (s === undefined) return;
    s.refs.delete(`${subject}\u0000${version}`);
    if (s.refs.size === 0) {
      this.byId.delete(v.id);
      if (this.idByText.get(s.canonical) === v.id) this.idByText.delete(s.canonical);
    }
  }

  /** Subjects with at least one version (soft-deleted ones only when `deleted`), sorted. */
  subjectNames(deleted: boolean): string[] {
    const out: string[] = [];
    for (const [name, versions] of this.subjects) {
      if ([...versions.values()].some((v) => deleted || !v.deleted)) out.push(name);
    }
    return out.sort();
  }

  /** The versions of a subject in order (soft-deleted ones only when `deleted`). */
  versions(subject: string, deleted: boolean): SchemaValue[] {
    const vs = [...(this.subjects.get(subject)?.values() ?? [])].filter((v) => deleted || !v.deleted);
    return vs.sort((a, b) => a.version - b.version);
  }

  /** Whether the subject has any version at all, soft-deleted included. */
  hasSubject(subject: string): boolean {
    return this.subjects.has(subject);
  }

  version(subject: string, version: number): SchemaValue | undefined {
    return this.subjects.get(subject)?.get(version);
  }

  /** The largest version number the subject has ever kept (soft-deleted included); 0 for none. */
  maxVersion(subject: string): number {
    let max = 0;
    for (const v of this.subjects.get(subject)?.keys() ?? []) max = Math.max(max, v);
    return max;
  }

  schemaById(id: number): { schema: string; canonical: string; schemaType: string } | undefined {
    return this.byId.get(id);
  }

  /** Subject versions holding the id, sorted (soft-deleted ones only when `deleted`). */
  usesOf(id: number, deleted: boolean): SchemaValue[] {
    const out: SchemaValue[] = [];
    for (const ref of this.byId.get(id)?.refs ?? []) {
      const [subject, version] = ref.split('\u0000') as [string, string];
      const v = this.version(subject, Number(version));
      if (v !== undefined && (deleted || !v.deleted)) out.push(v);
    }
    return out.sort((a, b) =>
      a.subject === b.subject ? a.version - b.version : a.subject < b.subject ? -1 : 1,
    );
  }

  idOf(canonical: string): number | undefined {
    return this.idByText.get(canonical);
  }

  compatibility(subject: string | null): CompatibilityLevel | undefined {
    return subject === null
      ? (this.globalCompatibility ?? undefined)
      : this.subjectCompatibility.get(subject);
  }

  /** The level that applies to a subject: its own, else the global one, else BACKWARD. */
  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.subjectCompatibility.get(subject) ?? this.globalCompatibility ?? DEFAULT_COMPATIBILITY;
  }

  mode(subject: string | null): Mode | undefined {
    return subject === null ? (this.globalMode ?? undefined) : this.subjectMode.get(subject);
  }

  effectiveMode(subject: string | null): Mode {
    return (subject === null ? undefined : this.subjectMode.get(subject)) ?? this.globalMode ?? 'READWRITE';
  }
}
