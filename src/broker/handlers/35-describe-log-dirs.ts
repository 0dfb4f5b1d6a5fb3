// DescribeLogDirs (key 35), v0-5. For each log dir: the partitions it holds with their size on disk
// (PartitionLog.sizeBytes, the sum of the segment files), offsetLag 0 (there are no future replicas being
// moved between dirs), and in v4 the file system's total and usable bytes. A null topic list means every
// partition. Partitions asked for that this broker does not host are left out, as in Kafka. A log dir
// taken offline by an I/O error is listed with KAFKA_STORAGE_ERROR and no partitions. v5 adds IsCordoned
// (KIP-1066: a cordoned dir takes no new partitions); Samsa has no cordoning, so every dir says false.

import { statfsSync } from 'node:fs';
import * as path from 'node:path';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeLogDirsRequest } from '../../protocol/generated/describe-log-dirs-request.js';
import type { DescribeLogDirsResponseInput } from '../../protocol/generated/describe-log-dirs-response.js';
import { defineHandler } from '../handler.js';

type ResultOut = NonNullable<DescribeLogDirsResponseInput['results']>[number];
type TopicOut = NonNullable<ResultOut['topics']>[number];

function diskSpace(dir: string): { totalBytes: number; usableBytes: number } {
  try {
    const s = statfsSync(dir);
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}

export const describeLogDirs = defineHandler<DescribeLogDirsRequest, DescribeLogDirsResponseInput>({
  apiKey: ApiKey.DescribeLogDirs,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const broker = ctx.broker;
    let wanted: Map<string, Set<number>> | null = null;
    if (req.topics !== null) {
      wanted = new Map();
      for (const t of req.topics) {
        const s = wanted.get(t.topic) ?? new Set<number>();
        for (const p of t.partitions) s.add(p);
        wanted.set(t.topic, s);
      }
    }
    const byDir = new Map<string, Map<string, TopicOut>>();
    for (const dir of broker.logs.logDirs) byDir.set(path.resolve(dir), new Map());
    // Every replica hosted here, led or followed.
    for (const p of broker.replicas.all()) {
      const parts = wanted?.get(p.topic);
      if (wanted !== null && parts === undefined) continue;
      {
        if (parts !== undefined && !parts.has(p.index)) continue;
        const dir = path.resolve(path.dirname(p.log.dir));
        let topics = byDir.get(dir);
        if (topics === undefined) {
          topics = new Map();
          byDir.set(dir, topics);
        }
        let out = topics.get(p.topic);
        if (out === undefined) {
          out = { name: p.topic, partitions: [] };
          topics.set(p.topic, out);
        }
        out.partitions?.push({
          partitionIndex: p.index,
          partitionSize: p.log.sizeBytes,
          offsetLag: Math.max(0, p.log.highWatermark - p.log.logEndOffset),
          isFutureKey: false,
        });
      }
    }
    const offline = new Set([...broker.logs.offlineLogDirs().keys()].map((d) => path.resolve(d)));
    const results: ResultOut[] = [...byDir].map(([logDir, topics]) =>
      offline.has(logDir)
        ? {
            errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
            logDir,
            topics: [],
            totalBytes: -1,
            usableBytes: -1,
            isCordoned: false,
          }
        : {
            errorCode: ErrorCode.NONE,
            logDir,
            topics: [...topics.values()],
            ...(ctx.apiVersion >= 4 ? diskSpace(logDir) : { totalBytes: -1, usableBytes: -1 }),
            isCordoned: false,
          },
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
});
