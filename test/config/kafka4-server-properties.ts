// The settings of Kafka 4.x's config/server.properties (a combined broker + controller node), verbatim
// (the file's comments left out). Tests replace ports and log.dirs with kafka4Properties().

export const kafka4StockProperties = `
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

/** The stock settings with the broker and controller ports and the data directory replaced. */
export function kafka4Properties(port: number, controllerPort: number, logDir: string): string {
  return kafka4StockProperties
    .replaceAll(':9092', `:${port}`)
    .replaceAll(':9093', `:${controllerPort}`)
    .replace('log.dirs=/tmp/kraft-combined-logs', `log.dirs=${logDir}`);
}

/** meta.properties as Kafka 4's storage tool (kafka-storage.sh format) writes it in a log dir. */
export const kafkaMetaProperties =
  '#\n#Thu Jan 01 00:00:00 UTC 2026\nnode.id=1\ndirectory.id=f0Dqt5WZQ1Kx3cZQyHj0gA\nversion=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\n';
