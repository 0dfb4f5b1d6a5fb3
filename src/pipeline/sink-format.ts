// The two file formats of `samsa sink`: the rows of one file to Parquet or JSON lines.
//
// Columns (both formats, same names)
//   topic      string
//   partition  int32
//   offset     int64
//   timestamp  Parquet: INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=true) (pyarrow timestamp[ms, tz=UTC], DuckDB
//              TIMESTAMP WITH TIME ZONE); jsonl: epoch milliseconds (a number)
//   key        binary, nullable (jsonl: standard padded base64 or null)
//   value      binary, nullable (jsonl: as key)
//   headers    list<struct<key string, value binary nullable>>, never null (an empty list when none)
//   plus, with --registry, one nullable column per field of the Avro record in the value (sink-avro.ts).
//
// Parquet files are written by hyparquet-writer (pure JS, one dependency): one row group per file up to
// parquetRowGroupRowsMax rows, Snappy pages (the native `snappy` package), statistics on partition, offset and timestamp only (the byte
// columns' min/max are of no use to a reader and cost time).

import { ByteWriter, type ColumnSource, parquetWrite, type SchemaElement } from 'hyparquet-writer';
import { compressSync as snappyCompressSync } from 'snappy';
import type { ConsumerRecord } from '../client/consumer.js';
import { sinkParquetRowGroupRowsMax } from '../limits.js';

export type ParquetCompression = 'snappy' | 'none';

export type SinkRow = ConsumerRecord & {
  /** The value decoded by its Avro schema (--registry), else undefined. */
  decoded?: Record<string, unknown> | null;
};

/** An extra Parquet column: its schema element(s) (a leaf, or a group and its children) and one value per row. */
export interface ExtraColumn {
  name: string;
  schema: SchemaElement[];
  data: unknown[];
}

const BASE_SCHEMA: SchemaElement[] = [
  {
    name: 'topic',
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'REQUIRED',
  },
  { name: 'partition', type: 'INT32', repetition_type: 'REQUIRED' },
  { name: 'offset', type: 'INT64', repetition_type: 'REQUIRED' },
  {
    name: 'timestamp',
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    repetition_type: 'REQUIRED',
  },
  { name: 'key', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  { name: 'value', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  // The standard three-level LIST (parquet-format LogicalTypes.md), as Arrow and Spark write it.
  {
    name: 'headers',
    converted_type: 'LIST',
    logical_type: { type: 'LIST' },
    repetition_type: 'REQUIRED',
    num_children: 1,
  },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
  {
    name: 'key',
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'REQUIRED',
  },
  { name: 'value', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
];
const BASE_COLUMNS = 7;
/** Columns decoded from an Avro value are named value_<field>. */
export const AVRO_COLUMN_PREFIX = 'value_';

/** One Parquet file holding the rows (in the order given). */
export function encodeParquet(
  rows: readonly SinkRow[],
  extra: readonly ExtraColumn[] = [],
  compression: ParquetCompression = 'snappy',
): Uint8Array {
  const n = rows.length;
  const topic = new Array<string>(n);
  const partition = new Int32Array(n);
  const offset = new BigInt64Array(n);
  const timestamp = new BigInt64Array(n);
  const key = new Array<Uint8Array | null>(n);
  const value = new Array<Uint8Array | null>(n);
  const headers = new Array<{ key: string; value: Uint8Array | null }[]>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as SinkRow;
    topic[i] = r.topic;
    partition[i] = r.partition;
    offset[i] = BigInt(r.offset);
    timestamp[i] = BigInt(r.timestamp);
    key[i] = r.key;
    value[i] = r.value;
    headers[i] = r.headers;
  }
  const columnData: ColumnSource[] = [
    { name: 'topic', data: topic, statistics: false },
    { name: 'partition', data: partition },
    { name: 'offset', data: offset },
    { name: 'timestamp', data: timestamp },
    // PLAIN: keys and values rarely repeat, and trying a dictionary first costs as much as the write.
    { name: 'key', data: key, statistics: false, encoding: 'PLAIN' },
    { name: 'value', data: value, statistics: false, encoding: 'PLAIN' },
    { name: 'headers', data: headers, statistics: false },
    ...extra.map((c) => ({ name: c.name, data: c.data as ColumnSource['data'], statistics: false })),
  ];
  const schema: SchemaElement[] = [
    { name: 'root', num_children: BASE_COLUMNS + extra.length },
    ...BASE_SCHEMA,
    ...extra.flatMap((c) => c.schema),
  ];
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema,
    columnData,
    codec: compression === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
    // The native snappy the broker uses (raw blocks, Parquet's SNAPPY): several times faster than the JS one.
    compressors: { SNAPPY: snappyPage },
    rowGroupSize: sinkParquetRowGroupRowsMax,
    createdBy: 'samsa sink (hyparquet-writer)',
  });
  return writer.getBytes();
}

function snappyPage(input: Uint8Array): Uint8Array {
  return snappyCompressSync(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
}

function b64json(b: Buffer | null): string {
  return b === null ? 'null' : `"${b.toString('base64')}"`;
}

/** JSON lines: one object per row, the Parquet column names; bytes as padded base64, timestamp epoch ms. */
export function encodeJsonl(rows: readonly SinkRow[]): Buffer[] {
  const out: Buffer[] = [];
  let lines: string[] = [];
  let chars = 0;
  let topicJson = '';
  let topicOf = '';
  for (const r of rows) {
    if (r.topic !== topicOf) {
      topicOf = r.topic;
      topicJson = JSON.stringify(r.topic);
    }
    // Built by hand (base64 and numbers need no escaping): twice as fast as JSON.stringify of an object.
    let headers = '';
    for (const h of r.headers) {
      headers += `${headers === '' ? '' : ','}{"key":${JSON.stringify(h.key)},"value":${b64json(h.value)}}`;
    }
    let line =
      `{"topic":${topicJson},"partition":${r.partition},"offset":${r.offset},"timestamp":${r.timestamp},` +
      `"key":${b64json(r.key)},"value":${b64json(r.value)},"headers":[${headers}]`;
    if (r.decoded != null) {
      for (const [k, v] of Object.entries(r.decoded)) {
        line += `,${JSON.stringify(`${AVRO_COLUMN_PREFIX}${k}`)}:${JSON.stringify(v, jsonReplacer) ?? 'null'}`;
      }
    }
    line += '}';
    lines.push(line);
    chars += line.length;
    // Joined in pieces of a few MiB: one string per file would cap the file size at V8's string limit.
    if (chars >= 4 * 1024 * 1024) {
      out.push(Buffer.from(`${lines.join('\n')}\n`));
      lines = [];
      chars = 0;
    }
  }
  if (lines.length > 0) out.push(Buffer.from(`${lines.join('\n')}\n`));
  return out;
}

/** Decoded Avro values may hold bigint (long beyond 2^53) and Buffer (bytes, fixed): numbers and base64. */
function jsonReplacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
    const data = (v as { data?: number[] }).data;
    if (Array.isArray(data)) return Buffer.from(data).toString('base64');
  }
  return v;
}
