// The records of the `_schemas` topic, in the JSON Confluent Schema Registry writes (its storage/*Key.java
// and *Value.java), so a log written by either registry is read by the other:
//
//   key                                                          value (null = tombstone)
//   {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}       {"subject":"s","version":1,"id":1,
//                                                                  "schema":"...","deleted":false}
//                                                                  (+ "schemaType" when not AVRO)
//   {"keytype":"CONFIG","subject":"s"|null,"magic":0}             {"compatibilityLevel":"FULL"}
//   {"keytype":"MODE","subject":"s"|null,"magic":0}               {"mode":"READONLY"}
//   {"keytype":"DELETE_SUBJECT","subject":"s","magic":0}          {"subject":"s","version":3}
//   {"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}           {"subject":"s"}
//   {"keytype":"NOOP","magic":0}                                  null
//
// A soft delete rewrites the SCHEMA value with "deleted":true; a hard delete writes a tombstone for the
// SCHEMA key, which compaction then removes. A null subject is the global CONFIG / MODE.

export type RegistryKey =
  | { keytype: 'SCHEMA'; subject: string; version: number }
  | { keytype: 'CONFIG'; subject: string | null }
  | { keytype: 'MODE'; subject: string | null }
  | { keytype: 'DELETE_SUBJECT'; subject: string }
  | { keytype: 'CLEAR_SUBJECT'; subject: string }
  | { keytype: 'NOOP' };

export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schema: string;
  deleted: boolean;
  schemaType?: string;
  /** Not in the record: the form schemas are compared in (state.ts canonicalOf), set when applied. */
  canonical?: string;
}

/** The key's JSON, fields in Confluent's order. */
export function encodeKey(k: RegistryKey): string {
  switch (k.keytype) {
    case 'SCHEMA':
      return JSON.stringify({ keytype: k.keytype, subject: k.subject, version: k.version, magic: 1 });
    case 'NOOP':
      return JSON.stringify({ keytype: k.keytype, magic: 0 });
    default:
      return JSON.stringify({ keytype: k.keytype, subject: k.subject, magic: 0 });
  }
}

export function encodeSchemaValue(v: SchemaValue): string {
  const out: Record<string, unknown> = {
    subject: v.subject,
    version: v.version,
    id: v.id,
    schema: v.schema,
    deleted: v.deleted,
  };
  if (v.schemaType !== undefined && v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  return JSON.stringify(out);
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Parses a key; null for one that is not JSON or of a type this registry does not know (skipped). */
export function decodeKey(bytes: Buffer | null): RegistryKey | null {
  if (bytes === null) return null;
  let j: unknown;
  try {
    j = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(j)) return null;
  const subject = typeof j.subject === 'string' ? j.subject : null;
  switch (j.keytype) {
    case 'SCHEMA':
      if (subject === null || !Number.isInteger(j.version)) return null;
      return { keytype: 'SCHEMA', subject, version: j.version as number };
    case 'CONFIG':
    case 'MODE':
      return { keytype: j.keytype, subject };
    case 'DELETE_SUBJECT':
    case 'CLEAR_SUBJECT':
      return subject === null ? null : { keytype: j.keytype, subject };
    case 'NOOP':
      return { keytype: 'NOOP' };
    default:
      return null;
  }
}

/** Parses a JSON value; null for a tombstone; throws on a value that is not a JSON object. */
export function decodeValue(bytes: Buffer | null): Record<string, unknown> | null {
  if (bytes === null) return null;
  const j: unknown = JSON.parse(bytes.toString('utf8'));
  if (!isObject(j)) throw new Error('value is not a JSON object');
  return j;
}

export function asSchemaValue(j: Record<string, unknown>): SchemaValue | null {
  if (typeof j.subject !== 'string' || !Number.isInteger(j.version) || !Number.isInteger(j.id)) return null;
  if (typeof j.schema !== 'string') return null;
  return {
    subject: j.subject,
    version: j.version as number,
    id: j.id as number,
    schema: j.schema,
    deleted: j.deleted === true,
    schemaType: typeof j.schemaType === 'string' ? j.schemaType : 'AVRO',
  };
}
