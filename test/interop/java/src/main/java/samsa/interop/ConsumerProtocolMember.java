package samsa.interop;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One member of a KIP-848 consumer group (group.protocol=consumer) for Samsa's interop tests
 * (test/interop/groups-java-consumer.test.ts). The session timeout and heartbeat interval are the broker's
 * (group.consumer.*); the client only picks the broker-side assignor.
 *
 * <pre>
 * java -cp 'target/samsa-interop.jar:target/lib/*' samsa.interop.ConsumerProtocolMember
 *      BOOTSTRAP GROUP TOPIC|REGEX NAME DELAY_MS ASSIGNOR INSTANCE_ID|- topic|regex [classic]
 * </pre>
 *
 * With "classic" last it is a member of the classic protocol (group.protocol=classic) instead, with
 * "classic-coop" one of the cooperative-sticky assignor.
 *
 * Prints one JSON object per line, as the classic scenario's members do (groups-scenario.ts):
 * {"ev":"assigned","partitions":[...]} (topic mode) or {"ev":"assigned","tps":["t-0",...]} (regex mode),
 * {"ev":"msg","p":P,"o":O}, {"ev":"commit",...}, {"ev":"commit-failed",...}, {"ev":"left"} after a clean close
 * on SIGTERM.
 */
public final class ConsumerProtocolMember {
  private ConsumerProtocolMember() {}

  static synchronized void out(String json) {
    System.out.println(json);
    System.out.flush();
  }

  static String owned(Set<TopicPartition> parts, boolean byName) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    if (byName) {
      for (TopicPartition tp : parts) j.add("\"" + tp.topic() + "-" + tp.partition() + "\"");
      return "{\"ev\":\"assigned\",\"tps\":" + j + "}";
    }
    Set<Integer> ps = new TreeSet<>();
    for (TopicPartition tp : parts) ps.add(tp.partition());
    for (int p : ps) j.add(Integer.toString(p));
    return "{\"ev\":\"assigned\",\"partitions\":" + j + "}";
  }

  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", a[0]);
    p.put("group.id", a[1]);
    p.put("client.id", a[3]);
    // Optional 9th argument "classic": the same workload as a classic-protocol member (JoinGroup/SyncGroup,
    // eager range assignment), for the online migration test; its session and heartbeat are short.
    // "classic-coop": the same with the cooperative-sticky assignor (incremental revocation).
    boolean classic = a.length > 8 && a[8].startsWith("classic");
    if (classic) {
      p.put("group.protocol", "classic");
      p.put("session.timeout.ms", "10000");
      p.put("heartbeat.interval.ms", "300");
      if (a[8].equals("classic-coop")) {
        p.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
      }
    } else {
      p.put("group.protocol", "consumer");
      p.put("group.remote.assignor", a[5]);
    }
    if (!a[6].equals("-")) p.put("group.instance.id", a[6]);
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("fetch.max.wait.ms", "100");
    p.put("max.poll.records", "20");
    p.put("metadata.max.age.ms", "500");
    long delayMs = Long.parseLong(a[4]);
    boolean regex = a[7].equals("regex");
    Set<TopicPartition> owned = new TreeSet<>((x, y) -> x.toString().compareTo(y.toString()));
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
    final boolean[] stopping = {false};
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping[0] = true;
                  consumer.wakeup();
                  try {
                    main.join(10_000);
                  } catch (InterruptedException e) {
                    // exiting anyway
                  }
                }));
    ConsumerRebalanceListener listener =
        new ConsumerRebalanceListener() {
          public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            owned.removeAll(parts);
            out(owned(owned, regex));
          }

          public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            owned.addAll(parts);
            out(owned(owned, regex));
          }

          public void onPartitionsLost(Collection<TopicPartition> parts) {
            onPartitionsRevoked(parts);
          }
        };
    if (regex) consumer.subscribe(new SubscriptionPattern(a[2]), listener);
    else consumer.subscribe(List.of(a[2]), listener);
    try {
      while (!stopping[0]) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        Map<TopicPartition, Long> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          next.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
        }
        for (ConsumerRecord<byte[], byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          out("{\"ev\":\"msg\",\"t\":\"" + r.topic() + "\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + "}");
          if (delayMs > 0) Thread.sleep(delayMs);
          try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(r.offset() + 1)));
            next.put(tp, r.offset() + 1);
            out("{\"ev\":\"commit\",\"p\":" + r.partition() + ",\"o\":" + (r.offset() + 1) + "}");
          } catch (CommitFailedException | RebalanceInProgressException e) {
            out("{\"ev\":\"commit-failed\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"error\":\""
                + e.getClass().getSimpleName() + "\"}");
            for (Map.Entry<TopicPartition, Long> e2 : next.entrySet()) {
              if (owned.contains(e2.getKey())) consumer.seek(e2.getKey(), e2.getValue());
            }
            break;
          } catch (WakeupException e) {
            throw e;
          } catch (KafkaException e) {
            // e.g. STALE_MEMBER_EPOCH surfaced after retries: report it and read again from the last commit.
            out("{\"ev\":\"commit-failed\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"error\":\""
                + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace('"', '\'') + "\"}");
            for (Map.Entry<TopicPartition, Long> e2 : next.entrySet()) {
              if (owned.contains(e2.getKey())) consumer.seek(e2.getKey(), e2.getValue());
            }
            break;
          }
        }
      }
    } catch (WakeupException e) {
      // SIGTERM: fall through to a clean close.
    }
    consumer.close();
    out("{\"ev\":\"left\"}");
  }
}
