// --registry: values in Confluent's wire format (magic byte 0, 4-byte big-endian schema id, Avro binary) are
// decoded with the schema the registry gives for that id (GET <url>/schemas/ids/<id>, Confluent's REST API) and
// written as typed columns next to the raw value.
//
// Columns: one per field of the record schema, named value_<field>, always nullable (a row whose value is not
// framed Avro, whose schema could not be had, or whose schema lacks the field has null there). A file holds the
// union of the fields of the schemas its rows were written with, so a field added by a newer schema version is a
// new nullable column. Types:
//   boolean -> BOOLEAN; int -> INT32; long -> INT64; float -> FLOAT; double -> DOUBLE; string, enum -> STRING;
//   bytes, fixed -> BYTE_ARRAY; a union of null and one of those -> that type; anything else (record, array,
//   map, other unions) and a field whose type differs between the schemas of one file -> STRING holding JSON.
//   Logical types are written as their underlying type. A schema that is not a record gives one column,
//   value_decoded.
// Decoding uses avsc (loaded on first use). Failures never stop the sink: the row keeps its raw value, the
// reason is counted (samsa_sink_avro_errors_total) and logged once per schema id.

import type { SchemaElement } from 'hyparquet-writer';
import { sinkRegistryRequestTimeoutMs, sinkRegistrySchemasMax } from '../limits.js';
import type { Logger } from '../logger.js';
import { AVRO_COLUMN_PREFIX, type ExtraColumn, type SinkRow } from './sink-format.js';
import type { SinkMetrics } from './sink-metrics.js';

type Kind = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'STRING' | 'BYTES' | 'JSON';

interface Schema {
  decode: (body: Buffer) => unknown;
  /** Field name -> column kind, in schema order; null when the schema is not a record. */
  fields: Map<string, Kind>;
  isRecord: boolean;
}

interface AvscType {
  fromBuffer(buf: Buffer): unknown;
}
interface Avsc {
  Type: { forSchema(schema: unknown, opts?: unknown): AvscType };
}

const PRIMITIVE: Record<string, Kind> = {
  boolean: 'BOOLEAN',
  int: 'INT32',
  long: 'INT64',
  float: 'FLOAT',
  double: 'DOUBLE',
  string: 'STRING',
  bytes: 'BYTES',
};

/** The column kind of an Avro type (schema JSON). */
export function kindOf(t: unknown): Kind {
  if (typeof t === 'string') return PRIMITIVE[t] ?? 'JSON';
  if (Array.isArray(t)) {
    const rest = t.filter((x) => x !== 'null');
    return rest.length === 1 && rest.length < t.length ? kindOf(rest[0]) : 'JSON';
  }
  if (t !== null && typeof t === 'object') {
    const type = (t as { type?: unknown }).type;
    if (type === 'enum') return 'STRING';
    if (type === 'fixed') return 'BYTES';
    if (typeof type === 'string' && type in PRIMITIVE) return PRIMITIVE[type] as Kind;
  }
  return 'JSON';
}

function element(name: string, kind: Kind): SchemaElement {
  const optional = { name, repetition_type: 'OPTIONAL' } as const;
  switch (kind) {
    case 'BOOLEAN':
    case 'INT32':
    case 'INT64':
    case 'FLOAT':
    case 'DOUBLE':
      return { ...optional, type: kind };
    case 'BYTES':
      return { ...optional, type: 'BYTE_ARRAY' };
    // JSON text in a plain string column: every reader shows it as a string and has JSON functions for it.
    case 'STRING':
    case 'JSON':
      return { ...optional, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x !== null && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') {
      const data = (x as { data?: number[] }).data;
      if (Array.isArray(data)) return Buffer.from(data).toString('base64');
    }
    return x;
  });
}

function cell(v: unknown, kind: Kind): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'INT64':
      return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    case 'BYTES':
      return Buffer.isBuffer(v) ? v : null;
    case 'JSON':
      return toJson(v);
    default:
      return v;
  }
}

export class AvroDecoder {
  private readonly schemas = new Map<number, Schema | null>();
  private avsc: Avsc | null = null;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly metrics?: SinkMetrics,
  ) {}

  /** Sets row.decoded for every row whose value is framed Avro with a schema the registry has. */
  async decodeRows(rows: SinkRow[]): Promise<void> {
    for (const r of rows) {
      const v = r.value;
      if (v === null || v.length < 5 || v[0] !== 0) continue;
      const id = v.readInt32BE(1);
      let s = this.schemas.get(id);
      if (s === undefined) s = await this.fetchSchema(id);
      if (s === null) continue;
      try {
        const value = s.decode(v.subarray(5));
        r.decoded = s.isRecord ? (value as Record<string, unknown>) : { decoded: value };
      } catch (e) {
        this.metrics?.avroErrors.inc({ reason: 'decode' });
        this.log.debug('value not decodable by its schema', {
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          schemaId: id,
          error: (e as Error).message,
        });
      }
    }
  }

  /** The value_<field> columns for the rows of one file (none when no row was decoded). */
  columns(rows: readonly SinkRow[]): ExtraColumn[] {
    const kinds = new Map<string, Kind>();
    const seen = new Set<number>();
    for (const r of rows) {
      if (r.decoded == null || r.value === null) continue;
      const id = r.value.readInt32BE(1);
      if (seen.has(id)) continue;
      seen.add(id);
      const s = this.schemas.get(id);
      if (s == null) continue;
      const fields = s.isRecord ? s.fields : new Map([['decoded', s.fields.get('decoded') ?? 'JSON']]);
      for (const [name, kind] of fields) {
        const had = kinds.get(name);
        kinds.set(name, had === undefined || had === kind ? kind : 'JSON');
      }
    }
    return [...kinds].map(([field, kind]) => {
      const name = `${AVRO_COLUMN_PREFIX}${field}`;
      return {
        name,
        schema: [element(name, kind)],
        data: rows.map((r) => (r.decoded == null ? null : cell(r.decoded[field], kind))),
      };
    });
  }

  private async fetchSchema(id: number): Promise<Schema | null> {
    let s: Schema | null = null;
    try {
      const res = await fetch(`${this.url.replace(/\/+$/, '')}/schemas/ids/${id}`, {
        signal: AbortSignal.timeout(sinkRegistryRequestTimeoutMs),
        headers: { accept: 'application/vnd.schemaregistry.v1+json, application/json' },
      });
      if (!res.ok) {
        this.miss(id, 'registry', `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
      } else {
        const body = (await res.json()) as { schema?: unknown; schemaType?: unknown };
        if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
          this.miss(id, 'schema_type', `schemaType ${String(body.schemaType)}`);
        } else if (typeof body.schema !== 'string') {
          this.miss(id, 'registry', 'the answer has no schema');
        } else {
          s = await this.compile(id, JSON.parse(body.schema) as unknown);
        }
      }
    } catch (e) {
      // Not cached: the registry may come back; the next record with this id asks again.
      this.metrics?.avroErrors.inc({ reason: 'registry' });
      this.log.warn('schema registry unreachable', {
        url: this.url,
        schemaId: id,
        error: (e as Error).message,
      });
      return null;
    }
    if (this.schemas.size >= sinkRegistrySchemasMax) this.schemas.clear();
    this.schemas.set(id, s);
    return s;
  }

  private async compile(id: number, json: unknown): Promise<Schema | null> {
    if (this.avsc === null) {
      // CommonJS: its exports are the default export of the ES module.
      const m = (await import('avsc')) as unknown as { default?: Avsc } & Avsc;
      this.avsc = m.default ?? m;
    }
    let type: AvscType;
    try {
      type = this.avsc.Type.forSchema(json);
    } catch (e) {
      this.miss(id, 'schema', (e as Error).message);
      return null;
    }
    const isRecord =
      json !== null && typeof json === 'object' && (json as { type?: unknown }).type === 'record';
    const fields = new Map<string, Kind>();
    if (isRecord) {
      for (const f of ((json as { fields?: unknown }).fields ?? []) as { name: string; type: unknown }[]) {
        fields.set(f.name, kindOf(f.type));
      }
    } else fields.set('decoded', kindOf(json));
    this.log.info('schema loaded from the registry', { schemaId: id, fields: [...fields.keys()] });
    return { decode: (b) => type.fromBuffer(b), fields, isRecord };
  }

  private miss(id: number, reason: string, detail: string): void {
    this.metrics?.avroErrors.inc({ reason });
    this.log.warn('schema not usable: values with this id stay undecoded', { schemaId: id, reason, detail });
  }
}
