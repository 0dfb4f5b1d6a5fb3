// Avro schemas for the registry, through avsc: parsing, the stored and comparison forms, and compatibility
// checks that follow Avro's schema resolution (the reader/writer rules of the Avro specification), as Confluent's
// AvroCompatibilityChecker does:
//   - records: a reader field missing from the writer needs a default; writer fields the reader lacks are
//     skipped; names must match (or the reader's aliases must name the writer);
//   - promotions: int -> long, float, double; long -> float, double; float -> double; string <-> bytes;
//   - enums: every writer symbol must be a reader symbol; fixed: same name and size;
//   - unions: every writer branch must be readable by the reader (a union reader reads a writer type that
//     one of its branches reads).
// avsc's Type#createResolver(writer) implements exactly these rules and throws when they fail; its message
// (e.g. `no matching field for default-less User.email`) becomes the verbose compatibility message.

import avro from 'avsc';

export const compatibilityLevels = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (compatibilityLevels as readonly string[]).includes(s);
}

export interface ParsedSchema {
  type: avro.Type;
  /** What is stored and served: the schema's JSON as the client sent it, without whitespace (all kept). */
  stored: string;
  /**
   * The form schemas are compared in, so that the same schema gets the same id: object keys sorted, names
   * fully qualified (no "namespace" attributes), `{"type":"int"}` written "int". Texts that differ only in
   * whitespace, attribute order or how names are spelled compare equal (as Confluent's canonical string,
   * Avro's Schema.toString, makes them); a different doc, default or property is a different schema.
   */
  canonical: string;
}

const primitives = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const named = new Set(['record', 'error', 'enum', 'fixed']);

function qualify(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' || primitives.has(name) ? name : `${namespace}.${name}`;
}

function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

/** The comparison form of a parsed schema JSON (see ParsedSchema.canonical). */
function comparable(j: unknown, namespace: string): unknown {
  if (typeof j === 'string') return qualify(j, namespace);
  if (Array.isArray(j)) return j.map((x) => comparable(x, namespace));
  if (typeof j !== 'object' || j === null) return j;
  const o = j as Record<string, unknown>;
  const type = o.type;
  if (typeof type === 'string' && primitives.has(type) && Object.keys(o).length === 1) return type;
  const out: Record<string, unknown> = {};
  let inner = namespace;
  if (typeof type === 'string' && named.has(type) && typeof o.name === 'string') {
    const explicit = typeof o.namespace === 'string' ? o.namespace : namespace;
    const full = o.name.includes('.') ? o.name : explicit === '' ? o.name : `${explicit}.${o.name}`;
    inner = namespaceOf(full);
    out.name = full;
    if (Array.isArray(o.aliases)) {
      out.aliases = o.aliases.map((a) => (typeof a === 'string' ? qualify(a, inner) : a));
    }
  }
  for (const [k, v] of Object.entries(o)) {
    if (k === 'namespace' || k in out) continue;
    if (k === 'fields' && Array.isArray(v)) {
      out.fields = v.map((f) => {
        if (typeof f !== 'object' || f === null) return f;
        const field: Record<string, unknown> = {};
        for (const [fk, fv] of Object.entries(f as Record<string, unknown>)) {
          field[fk] = fk === 'type' ? comparable(fv, inner) : fv;
        }
        return sortKeys(field);
      });
    } else if (k === 'type' || k === 'items' || k === 'values') {
      out[k] = comparable(v, inner);
    } else {
      out[k] = v;
    }
  }
  return sortKeys(out);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Parses a schema text; throws Error with a message for the client (Confluent's 42201) when invalid. */
export function parseAvro(text: string): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Invalid schema: not JSON: ${(e as Error).message}`);
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as Parameters<typeof avro.Type.forSchema>[0]);
  } catch (e) {
    throw new Error(`Invalid schema ${text}: ${(e as Error).message}`);
  }
  return { type, stored: JSON.stringify(json), canonical: JSON.stringify(comparable(json, '')) };
}

/** Null when `reader` can read data written with `writer`, else why not. */
export function readError(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface PriorSchema {
  version: number;
  type: avro.Type;
}

/**
 * Messages saying why `candidate` is incompatible with the prior versions (oldest first) under `level`;
 * empty when compatible. Non-transitive levels look at the latest prior version only.
 */
export function compatibilityErrors(
  level: CompatibilityLevel,
  candidate: avro.Type,
  prior: readonly PriorSchema[],
): string[] {
  if (level === 'NONE' || prior.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? prior : prior.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const out: string[] = [];
  for (const p of against) {
    if (backward) {
      const why = readError(candidate, p.type);
      if (why !== null) {
        out.push(`The new schema cannot read data written with version ${p.version} (${level}): ${why}`);
      }
    }
    if (forward) {
      const why = readError(p.type, candidate);
      if (why !== null) {
        out.push(`Version ${p.version} cannot read data written with the new schema (${level}): ${why}`);
      }
    }
  }
  return out;
}
