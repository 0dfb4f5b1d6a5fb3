/**
 * Kafka's message schema language (see ../shared/kafka-protocol/message/README.md) parsed into a
 * small model the emitter walks: messages, their structs, fields with version ranges.
 */
import { readFileSync } from 'node:fs';

/** An inclusive version range; empty when lo > hi. hi is Infinity for "N+". */
export interface Range {
  lo: number;
  hi: number;
}

export const NO_VERSIONS: Range = { lo: 1, hi: 0 };

export type PrimitiveName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'uuid'
  | 'bytes'
  | 'records';

const PRIMITIVES = new Set<string>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
]);

export type FieldType =
  | { kind: 'primitive'; name: PrimitiveName }
  | { kind: 'struct'; struct: string }
  | { kind: 'array'; element: FieldType };

export interface Field {
  name: string;
  /** The schema name in camelCase: the property name in generated interfaces. */
  prop: string;
  type: FieldType;
  versions: Range;
  nullableVersions: Range;
  taggedVersions: Range;
  tag: number | undefined;
  /** Versions whose variable-length encodings are compact (the message's, unless the field overrides it). */
  flexibleVersions: Range;
  /** The schema's "default", as written (string, number, boolean or null), or undefined. */
  default: unknown;
}

export interface Struct {
  /** The name used in the schema (e.g. TopicProduceData). */
  name: string;
  /** The generated interface name (e.g. ProduceRequestTopicProduceData). */
  tsName: string;
  fields: Field[];
  /** Hull of the versions in which this struct can appear on the wire; empty if it never does. */
  versions: Range;
}

export interface Message {
  name: string;
  kind: string; // request, response, header, data
  apiKey: number | undefined;
  validVersions: Range;
  flexibleVersions: Range;
  root: Struct;
  /** Nested structs in first-use order (root excluded). */
  structs: Struct[];
}

export function parseRange(spec: string | undefined, what: string): Range {
  if (spec === undefined) throw new Error(`missing version range for ${what}`);
  const s = spec.trim();
  if (s === 'none') return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number.POSITIVE_INFINITY };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`bad version range '${spec}' for ${what}`);
}

export function intersect(a: Range, b: Range): Range {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

export function isEmpty(r: Range): boolean {
  return r.lo > r.hi;
}

function hull(a: Range, b: Range): Range {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

/** Strips // comments (outside strings) so the file parses as JSON. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

/** A field as the schema file writes it. */
export interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: unknown;
  fields?: RawField[];
}

export interface RawStruct {
  name: string;
  versions?: string;
  fields: RawField[];
}

export interface RawMessage {
  name: string;
  type: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  fields?: RawField[];
  commonStructs?: RawStruct[];
}

export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The schema file as written (comments stripped). */
export function readRawMessage(path: string): RawMessage {
  return JSON.parse(stripComments(readFileSync(path, 'utf8'))) as RawMessage;
}

export function parseMessage(raw: RawMessage): Message | undefined {
  if (!raw.fields) return undefined;
  const name = raw.name;
  const validVersions = parseRange(raw.validVersions, name);
  const flexibleVersions = parseRange(raw.flexibleVersions, `${name} flexibleVersions`);
  const structsByName = new Map<string, Struct>();
  const order: Struct[] = [];

  const define = (structName: string, rawFields: RawField[]): Struct => {
    if (structsByName.has(structName)) throw new Error(`${name}: struct ${structName} defined twice`);
    const struct: Struct = { name: structName, tsName: name + structName, fields: [], versions: NO_VERSIONS };
    structsByName.set(structName, struct);
    order.push(struct);
    struct.fields = rawFields.map(parseField);
    return struct;
  };

  function parseType(t: string, f: RawField): FieldType {
    if (t.startsWith('[]')) return { kind: 'array', element: parseType(t.slice(2), f) };
    if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t as PrimitiveName };
    if (f.fields) define(t, f.fields);
    return { kind: 'struct', struct: t };
  }

  function parseField(f: RawField): Field {
    const what = `${name}.${f.name}`;
    const taggedVersions = f.taggedVersions ? parseRange(f.taggedVersions, what) : NO_VERSIONS;
    if (f.taggedVersions !== undefined && f.tag === undefined)
      throw new Error(`${what}: taggedVersions without tag`);
    return {
      name: f.name,
      prop: lowerFirst(f.name),
      type: parseType(f.type.trim(), f),
      versions: parseRange(f.versions ?? f.taggedVersions, what),
      nullableVersions: f.nullableVersions ? parseRange(f.nullableVersions, what) : NO_VERSIONS,
      taggedVersions,
      tag: f.tag,
      flexibleVersions: f.flexibleVersions ? parseRange(f.flexibleVersions, what) : flexibleVersions,
      default: f.default,
    };
  }

  for (const s of raw.commonStructs ?? []) define(s.name, s.fields);
  const root: Struct = { name, tsName: name, fields: raw.fields.map(parseField), versions: validVersions };

  // Each struct's version hull: the union of the versions of every field that holds it.
  const visit = (struct: Struct, ctx: Range): void => {
    for (const f of struct.fields) {
      let t = f.type;
      while (t.kind === 'array') t = t.element;
      if (t.kind !== 'struct') continue;
      const child = structsByName.get(t.struct);
      if (!child) throw new Error(`${name}.${f.name}: unknown struct type ${t.struct}`);
      const sub = intersect(ctx, f.versions);
      if (isEmpty(sub)) continue;
      child.versions = hull(child.versions, sub);
      visit(child, sub);
    }
  };
  visit(root, validVersions);

  return {
    name,
    kind: raw.type,
    apiKey: raw.apiKey,
    validVersions,
    flexibleVersions,
    root,
    structs: order,
  };
}

export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}
