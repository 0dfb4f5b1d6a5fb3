package samsa.interop;

import java.io.FileReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The reference Java client (kafka-clients 4.x) over TLS and SASL, for test/security/java-security.test.ts and
 * test/security/cluster-clients.test.ts: several cases in one JVM (its start is slow). Compiled with javac against
 * the interop project's jars like AdminDescribe.
 *
 * <pre>
 * java -cp ... samsa.interop.SecureClients CASE.properties...
 * </pre>
 *
 * Each case file holds the client's properties (bootstrap.servers, security.protocol, ssl.*, sasl.*) plus
 * case.name, case.topic, case.count and case.expect (ok, the default, or auth-failure). An ok case produces
 * case.count records "NAME-i" with acks=all and the idempotent producer to partition 0, then reads partition 0
 * from the beginning until it has seen them all. An auth-failure case expects the producer's first request to
 * fail with a SaslAuthenticationException. One JSON line per case on stdout:
 * {"case":"NAME","acked":N,"consumed":N,"ok":true,"error":null}. Exits 1 if any case failed.
 */
public final class SecureClients {
  private SecureClients() {}

  public static void main(String[] argv) throws Exception {
    boolean all = true;
    for (String file : argv) {
      Properties p = new Properties();
      try (FileReader r = new FileReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      all &= runCase(p);
    }
    System.exit(all ? 0 : 1);
  }

  private static boolean runCase(Properties caseProps) {
    Properties p = new Properties();
    p.putAll(caseProps);
    String name = (String) p.remove("case.name");
    String topic = (String) p.remove("case.topic");
    int count = Integer.parseInt((String) p.remove("case.count"));
    String expect = (String) p.getOrDefault("case.expect", "ok");
    p.remove("case.expect");
    int acked = 0;
    int consumed = 0;
    String error = null;
    boolean ok;
    try {
      if (expect.equals("auth-failure")) {
        error = authFailure(p, topic);
        ok = error != null && error.contains("SaslAuthenticationException");
      } else {
        acked = produce(p, topic, name, count);
        consumed = consume(p, topic, name, count);
        ok = acked == count && consumed == count;
      }
    } catch (Exception e) {
      error = e.toString();
      ok = false;
    }
    System.out.println("{\"case\":" + json(name) + ",\"acked\":" + acked + ",\"consumed\":" + consumed + ",\"ok\":"
        + ok + ",\"error\":" + json(error) + "}");
    System.out.flush();
    return ok;
  }

  private static int produce(Properties base, String topic, String name, int count) throws Exception {
    Properties p = new Properties();
    p.putAll(base);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-secure-java");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) sent.add(producer.send(new ProducerRecord<>(topic, 0, null, name + "-" + i)));
      producer.flush();
      int acked = 0;
      for (Future<RecordMetadata> f : sent) {
        f.get();
        acked++;
      }
      return acked;
    }
  }

  /** Reads partition 0 from the beginning; counts the records "NAME-i" seen in order. */
  private static int consume(Properties base, String topic, String name, int count) {
    Properties p = new Properties();
    p.putAll(base);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-secure-java");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    int next = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (next < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          if ((name + "-" + next).equals(r.value())) next++;
        }
      }
    }
    return next;
  }

  /** The producer's first metadata request with a wrong password: the exception's text, or null if it worked. */
  private static String authFailure(Properties base, String topic) {
    Properties p = new Properties();
    p.putAll(base);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.partitionsFor(topic);
      return null;
    } catch (Exception e) {
      return e.toString();
    }
  }

  private static String json(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
