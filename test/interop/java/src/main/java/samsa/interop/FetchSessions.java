package samsa.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A consumer assigned every partition of a topic from the beginning: it polls (the Java client keeps a fetch
 * session per broker, KIP-227) until it has read `expected` records, printing one JSON line per record
 * ({"p":partition,"o":offset,"v":value}), then {"done":count}. Fails after the deadline.
 *
 * Usage: FetchSessions --bootstrap host:port --topic t --partitions n --expected n [--deadline-ms ms]
 */
public final class FetchSessions {
  public static void main(String[] args) {
    String bootstrap = null;
    String topic = null;
    int partitions = 1;
    long expected = 0;
    long deadlineMs = 60_000;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--bootstrap" -> bootstrap = args[i + 1];
        case "--topic" -> topic = args[i + 1];
        case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
        case "--expected" -> expected = Long.parseLong(args[i + 1]);
        case "--deadline-ms" -> deadlineMs = Long.parseLong(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    long count = 0;
    long until = System.currentTimeMillis() + deadlineMs;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      while (count < expected) {
        if (System.currentTimeMillis() > until) {
          System.out.println("{\"error\":\"deadline\",\"count\":" + count + "}");
          System.exit(2);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          System.out.println(
              "{\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"v\":\"" + r.value() + "\"}");
          count++;
        }
        System.out.flush();
      }
    }
    System.out.println("{\"done\":" + count + "}");
  }
}
