/**
 * Real clients over TLS and SASL for the security tests: SCRAM users made through the admin API
 * (AlterUserScramCredentials), the Java client (test/interop/java/.../SecureClients.java, several cases in one
 * JVM), confluent-kafka (test/security/clients/confluent_kafka_secure.py, several cases in one process) and kcat.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientSecurity, KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { saltedPassword } from '../../src/security/sasl/scram.js';
import { repoRoot, run } from '../helpers/run.js';
import { javaClientJar, jsonLines, python, tool } from '../interop/harness.js';

/** What the Java cases need (the interop project is built with Maven, SecureClients.java with javac). */
export const JAVA = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Creates (or replaces) a SCRAM credential with AlterUserScramCredentials; throws on an error code. */
export async function addScramUser(
  hostPort: string,
  user: string,
  password: string,
  mechanism: ScramMechanismName,
  security?: ClientSecurity,
): Promise<void> {
  const [host, port] = hostPort.split(':') as [string, string];
  const conn = await KafkaConnection.connect({
    host,
    port: Number(port),
    ...(security === undefined ? {} : { security }),
  });
  try {
    const salt = randomBytes(24);
    const iterations = 4096;
    const r = (await conn.request(ApiKey.AlterUserScramCredentials, {
      deletions: [],
      upsertions: [
        {
          name: user,
          mechanism: mechanism === 'SCRAM-SHA-256' ? 1 : 2,
          iterations,
          salt,
          saltedPassword: saltedPassword(mechanism, password, salt, iterations),
        },
      ],
    })) as { results: { user: string; errorCode: number; errorMessage: string | null }[] };
    const bad = r.results.find((x) => x.errorCode !== 0);
    if (bad !== undefined)
      throw new Error(`AlterUserScramCredentials ${user}: ${bad.errorCode} ${bad.errorMessage}`);
  } finally {
    conn.close();
  }
}

export interface ClientCase {
  name: string;
  topic: string;
  count: number;
  expect?: 'ok' | 'auth-failure';
  /** The client's own configuration keys (Java properties or librdkafka keys). */
  config: Record<string, string>;
}

export interface CaseResult {
  case: string;
  acked: number;
  consumed: number;
  ok: boolean;
  error: string | null;
}

let javaClasspath: Promise<string> | undefined;

/** Compiles SecureClients.java against the interop project's jars (once per process); the classpath. */
export function secureJavaClasspath(): Promise<string> {
  javaClasspath ??= (async () => {
    const lib = join(await javaClientJar(), '..', 'lib', '*');
    const classes = mkdtempSync(join(tmpdir(), 'samsa-secure-java-'));
    const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/SecureClients.java');
    await run('javac', ['-nowarn', '-d', classes, '-cp', lib, source], { timeoutMs: 120_000 });
    return `${lib}:${classes}`;
  })();
  return javaClasspath;
}

/** Java properties text: `key=value` lines, with Java's escapes for backslashes. */
function properties(entries: Record<string, string>): string {
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${v.replaceAll('\\', '\\\\')}`)
    .join('\n')}\n`;
}

/** Runs every case in one JVM; the results by case name (a case the JVM never reached is missing). */
export async function runJavaCases(dir: string, cases: ClientCase[]): Promise<Map<string, CaseResult>> {
  const classpath = await secureJavaClasspath();
  const files = cases.map((c, i) => {
    const file = join(dir, `java-case-${i}-${c.name}.properties`);
    writeFileSync(
      file,
      properties({
        ...c.config,
        'case.name': c.name,
        'case.topic': c.topic,
        'case.count': String(c.count),
        'case.expect': c.expect ?? 'ok',
      }),
    );
    return file;
  });
  const r = await run(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
      '-cp',
      classpath,
      'samsa.interop.SecureClients',
      ...files,
    ],
    { timeoutMs: 240_000, allowFailure: true },
  );
  return byCase(jsonLines(r) as unknown as CaseResult[]);
}

/** Runs every case in one confluent-kafka process. */
export async function runConfluentCases(dir: string, cases: ClientCase[]): Promise<Map<string, CaseResult>> {
  const file = join(dir, `confluent-cases-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(cases));
  const script = join(repoRoot(), 'test', 'security', 'clients', 'confluent_kafka_secure.py');
  const r = await run(python, [script, file], { timeoutMs: 240_000, allowFailure: true });
  return byCase(jsonLines(r) as unknown as CaseResult[]);
}

function byCase(results: CaseResult[]): Map<string, CaseResult> {
  return new Map(results.map((r) => [r.case, r]));
}

/** kcat's -X options for a SASL_SSL SCRAM login. */
export function kcatSaslSsl(
  bootstrap: string,
  ca: string,
  mechanism: string,
  user: string,
  password: string,
) {
  return [
    '-b',
    bootstrap,
    '-X',
    'security.protocol=SASL_SSL',
    '-X',
    `ssl.ca.location=${ca}`,
    '-X',
    `sasl.mechanisms=${mechanism}`,
    '-X',
    `sasl.username=${user}`,
    '-X',
    `sasl.password=${password}`,
  ];
}
