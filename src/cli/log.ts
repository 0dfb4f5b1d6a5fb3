// `samsa log dump|verify`: Kafka's kafka-dump-log.sh (DumpLogSegments) for an operator checking a data dir.
// Works on files, not through a broker: run it on a stopped broker's dir, or expect the active segment's tail
// (and its index, written lazily) to move while it reads.
//
//   dump    prints every batch of a .log (Kafka's line: baseOffset, lastOffset, count, sequences, producer,
//           partitionLeaderEpoch, flags, position, timestamp, size, magic, codec, crc, isvalid); with
//           --deep-iteration each record too, with --print-data-log its key and payload. For .index and
//           .timeindex files, every entry, and the entries that do not match the .log beside them; for
//           .txnindex files, every aborted transaction.
//   verify  checks every batch (frame, offsets, CRC32C; records with --deep-iteration) and every index entry
//           against its .log, prints one summary line per file on stdout and one line per problem on stderr
//           (`samsa log: <file>: <problem>`); exit 0 when all is well, 1 when anything is wrong.
//
// A directory given to --files stands for the segment files in it and in its subdirectories (a log dir or a
// partition dir).

import * as fs from 'node:fs';
import * as limits from '../limits.js';
import { decodeBatch } from '../protocol/batch-compression.js';
import {
  compressionOf,
  type DecodedRecord,
  hasDeleteHorizon,
  isControl,
  isTransactional,
  lastSequenceOf,
  timestampType,
} from '../protocol/records.js';
import {
  baseOffsetOfFile,
  checkOffsetIndex,
  checkTimeIndex,
  expandSegmentPaths,
  type LogBatch,
  segmentFileKind,
  walkLog,
} from '../storage/log-inspect.js';
import { parseTxnIndex } from '../storage/txn-index.js';
import { describeError, parse, printHelp, runCommand, UsageError } from './common.js';

const help = `Usage: samsa log dump --files FILE[,FILE...] [--deep-iteration] [--print-data-log]
       samsa log verify --files FILE[,FILE...] [--deep-iteration]

Reads segment files (.log, .index, .timeindex, .txnindex) directly, like Kafka's kafka-dump-log.sh. A directory stands
for the segment files in it and in its subdirectories.

  dump     print every batch of a .log, every entry of an index (and entries that do not match the .log)
  verify   check every batch's frame, offsets and CRC32C and every index entry against its .log; one line per
           problem on stderr, exit status 1 when there is any

Options:
  --files FILE[,FILE...]   files or directories to read (repeatable)
  --deep-iteration         also decode every record (decompressing batches)
  --print-data-log         dump: print each record's key and payload (implies --deep-iteration)
  -h, --help               this help
`;

const options = {
  files: { type: 'string', multiple: true },
  'deep-iteration': { type: 'boolean' },
  'print-data-log': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

interface Run {
  verify: boolean;
  deep: boolean;
  printData: boolean;
  problems: number;
  /** Lines waiting to be written to stdout (flushed in chunks, respecting back-pressure). */
  out: string[];
}

async function emit(run: Run, line: string): Promise<void> {
  run.out.push(line);
  if (run.out.length >= 512) await flush(run);
}

/** stdout was closed by its reader (`samsa log dump ... | head`): stop quietly. */
class OutputClosed extends Error {}
let outputClosed = false;

async function flush(run: Run): Promise<void> {
  if (run.out.length === 0) return;
  if (outputClosed) throw new OutputClosed();
  const text = `${run.out.join('\n')}\n`;
  run.out = [];
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
  });
  if (outputClosed) throw new OutputClosed();
}

function problem(run: Run, file: string, text: string): void {
  run.problems++;
  process.stderr.write(`samsa log: ${file}: ${text}\n`);
}

/** Kafka's batch line (DumpLogSegments.dumpLog). */
function batchLine(b: LogBatch): string {
  const h = b.header;
  const tsType = timestampType(h.attributes) === 1 ? 'LogAppendTime' : 'CreateTime';
  const horizon = hasDeleteHorizon(h.attributes) ? `OptionalLong[${h.baseTimestamp}]` : 'OptionalLong.empty';
  return (
    `baseOffset: ${h.baseOffset} lastOffset: ${h.baseOffset + h.lastOffsetDelta} count: ${h.recordCount}` +
    ` baseSequence: ${h.baseSequence} lastSequence: ${lastSequenceOf(h.baseSequence, h.lastOffsetDelta)}` +
    ` producerId: ${h.producerId} producerEpoch: ${h.producerEpoch}` +
    ` partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${isTransactional(h.attributes)}` +
    ` isControl: ${isControl(h.attributes)} deleteHorizonMs: ${horizon} position: ${b.position}` +
    ` ${tsType}: ${h.maxTimestamp} size: ${b.size} magic: ${h.magic}` +
    ` compresscodec: ${CODEC_NAMES[compressionOf(h.attributes)] ?? compressionOf(h.attributes)}` +
    ` crc: ${h.crc} isvalid: ${b.crcValid}`
  );
}

/** Kafka's record line: `| offset: ... CreateTime: ... keySize: ... valueSize: ... sequence: ... headerKeys: [...]`. */
function recordLine(b: LogBatch, r: DecodedRecord, printData: boolean): string {
  const h = b.header;
  const logAppend = timestampType(h.attributes) === 1;
  const ts = logAppend ? h.maxTimestamp : h.baseTimestamp + r.timestampDelta;
  const sequence = h.baseSequence < 0 ? -1 : lastSequenceOf(h.baseSequence, r.offsetDelta);
  let line =
    `| offset: ${h.baseOffset + r.offsetDelta} ${logAppend ? 'LogAppendTime' : 'CreateTime'}: ${ts}` +
    ` keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} sequence: ${sequence}` +
    ` headerKeys: [${r.headers.map((x) => x.key).join(',')}]`;
  if (isControl(h.attributes)) {
    // Control record: key (version int16, type int16: 0 ABORT, 1 COMMIT), value (version int16, epoch int32).
    const type = r.key !== null && r.key.length >= 4 ? r.key.readInt16BE(2) : -1;
    const epoch = r.value !== null && r.value.length >= 6 ? r.value.readInt32BE(2) : -1;
    line += ` endTxnMarker: ${type === 0 ? 'ABORT' : type === 1 ? 'COMMIT' : `UNKNOWN(${type})`} coordinatorEpoch: ${epoch}`;
  } else if (printData) {
    if (r.key !== null) line += ` key: ${r.key.toString('utf8')}`;
    line += ` payload: ${r.value === null ? 'null' : r.value.toString('utf8')}`;
  }
  return line;
}

async function doLog(run: Run, file: string): Promise<void> {
  if (!run.verify) {
    await emit(run, `Dumping ${file}`);
    await emit(run, `Log starting offset: ${baseOffsetOfFile(file) ?? 0}`);
  }
  const walk = await walkLog(file, async (b) => {
    if (!run.verify) await emit(run, batchLine(b));
    if (!run.deep) return undefined;
    let records: DecodedRecord[];
    try {
      records = (await decodeBatch(b.bytes, limits.recompressBatchBytesMax)).records;
    } catch (e) {
      return `records of batch ${b.header.baseOffset} do not decode: ${describeError(e)}`;
    }
    if (!run.verify) for (const r of records) await emit(run, recordLine(b, r, run.printData));
    return undefined;
  });
  await flush(run);
  for (const p of walk.problems) problem(run, file, p);
  if (run.verify) {
    const offsets = walk.batches === 0 ? 'no batches' : `offsets ${walk.firstOffset}-${walk.lastOffset}`;
    const state = walk.problems.length === 0 ? 'ok' : `${walk.problems.length} problem(s)`;
    await emit(run, `${file}: ${state}, ${walk.batches} batches, ${offsets}, ${walk.fileBytes} bytes`);
  }
}

async function doIndex(run: Run, file: string, kind: 'index' | 'timeindex'): Promise<void> {
  const check = kind === 'index' ? checkOffsetIndex(file) : await checkTimeIndex(file);
  if (!run.verify) {
    await emit(run, `Dumping ${file}`);
    for (const e of check.entries) {
      await emit(
        run,
        kind === 'index'
          ? `offset: ${e.offset} position: ${e.position}`
          : `timestamp: ${e.timestamp} offset: ${e.offset}`,
      );
    }
    const bad = check.entries.filter((e) => e.problem !== null).length;
    if (bad > 0) await emit(run, `Mismatches in ${file}: ${bad} of ${check.entries.length} entries`);
  }
  await flush(run);
  for (const p of check.problems) problem(run, file, p);
  if (run.verify) {
    const state = check.problems.length === 0 ? 'ok' : `${check.problems.length} problem(s)`;
    await emit(run, `${file}: ${state}, ${check.entries.length} entries`);
  }
}

/** A .txnindex: every aborted transaction (Kafka's DumpLogSegments line), and where the file goes bad. */
async function doTxnIndex(run: Run, file: string): Promise<void> {
  const { entries, problem: bad } = parseTxnIndex(fs.readFileSync(file));
  if (!run.verify) {
    await emit(run, `Dumping ${file}`);
    for (const e of entries) {
      await emit(
        run,
        `version: 0 producerId: ${e.producerId} firstOffset: ${e.firstOffset} lastOffset: ${e.lastOffset} lastStableOffset: ${e.lastStableOffset}`,
      );
    }
  }
  await flush(run);
  if (bad !== null) problem(run, file, bad);
  if (run.verify)
    await emit(run, `${file}: ${bad === null ? 'ok' : '1 problem(s)'}, ${entries.length} entries`);
}

/** An I/O error as one phrase: `no such file or directory (ENOENT)`, without Node's repetition of the path. */
function fileError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.code === 'string' && typeof err.syscall === 'string') {
    const m = /^[A-Z]+: ([^,]+),/.exec(err.message);
    return `${m?.[1] ?? err.message} (${err.code})`;
  }
  return describeError(e);
}

export function runLog(args: string[]): Promise<number> {
  return runCommand('log', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== 'dump' && action !== 'verify'))
      throw new UsageError("expected the action 'dump' or 'verify'");
    const given = (values.files ?? []).flatMap((f) => f.split(',')).filter((f) => f !== '');
    if (given.length === 0) throw new UsageError('--files is required');
    if (action === 'verify' && values['print-data-log'] === true)
      throw new UsageError('--print-data-log is for dump');
    const run: Run = {
      verify: action === 'verify',
      deep: values['deep-iteration'] === true || values['print-data-log'] === true,
      printData: values['print-data-log'] === true,
      problems: 0,
      out: [],
    };
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') outputClosed = true;
    });
    const files = expandSegmentPaths(given, (p, e) => problem(run, p, fileError(e)));
    for (const file of files) {
      const kind = segmentFileKind(file);
      try {
        if (kind === 'log') await doLog(run, file);
        else if (kind === 'index' || kind === 'timeindex') await doIndex(run, file, kind);
        else if (kind === 'txnindex') await doTxnIndex(run, file);
        else problem(run, file, 'not a .log, .index, .timeindex or .txnindex file');
      } catch (e) {
        if (e instanceof OutputClosed) return 0;
        await flush(run);
        problem(run, file, fileError(e));
      }
    }
    try {
      await flush(run);
    } catch (e) {
      if (!(e instanceof OutputClosed)) throw e;
    }
    return run.problems === 0 ? 0 : 1;
  });
}
