// Consumes partition 0 of a topic from the beginning to the end offset with Java's KafkaConsumer at an
// isolation level, and prints one JSON line: {"endOffset":N,"position":N,"records":[[offset,"value"],...]}.
// Run as a single source file (not part of the Maven build):
//   java -cp 'target/lib/*' ReadCommittedConsumer.java <bootstrap> <topic> read_committed|read_uncommitted
// Used by test/interop/read-committed-java.test.ts.

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

public class ReadCommittedConsumer {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("isolation.level", args[2]);
    p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(args[1], 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      List<String> got = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 30_000;
      while (c.position(tp) < end && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          got.add("[" + r.offset() + ",\"" + r.value() + "\"]");
        }
      }
      System.out.println("{\"endOffset\":" + end + ",\"position\":" + c.position(tp) + ",\"records\":["
          + String.join(",", got) + "]}");
    }
  }
}
