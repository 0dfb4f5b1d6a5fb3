// Avro schemas for the registry, through avsc: parsing, the stored form, and compatibility checks that
// follow Avro's schema resolution (the reader/writer rules of the Avro specification), as Confluent's
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
  /**
   * The form stored and served: avsc's schema JSON with every attribute kept (docs, defaults, aliases,
   * custom properties), names fully qualified, no whitespace. Two texts of the same schema that differ in
   * whitespace, attribute order or namespace spelling get the same form, hence the same id.
   */
  canonical: string;
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
  const canonical = JSON.stringify(type.schema({ exportAttrs: true }));
  return { type, canonical };
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
