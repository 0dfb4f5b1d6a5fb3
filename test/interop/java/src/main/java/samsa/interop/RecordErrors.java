package samsa.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
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
 * Produce record errors (KIP-467) as the reference Java producer sees them: one batch (linger.ms long enough to
 * hold every send) to partition 0 of a compacted topic, mixing keyed and keyless records. Kafka refuses the batch
 * whole with INVALID_RECORD and one record error per keyless record; the producer fails those sends with
 * InvalidRecordException and the keyed ones with a KafkaException ("part of a batch which had one or more invalid
 * records"). The keyed records are then sent again, as an application would, and must be appended; the
 * topic is read back from the start.
 *
 * <pre>
 * java -cp 'target/lib/*' RecordErrors.java --bootstrap H:P --topic T --compression C
 * </pre>
 *
 * Output, one line each: "send i key outcome" for the first round (outcome: ok OFFSET, or the exception's class
 * simple name and message), "resend i key outcome" for the second, then "read offset key" per record read.
 */
public final class RecordErrors {
  private RecordErrors() {}

  private static final String[] KEYS = {"k0", null, "k2", null, null, "k5"};

  public static void main(String[] argv) throws Exception {
    String bootstrap = null;
    String topic = null;
    String codec = "none";
    for (int k = 0; k + 1 < argv.length; k += 2) {
      switch (argv[k]) {
        case "--bootstrap" -> bootstrap = argv[k + 1];
        case "--topic" -> topic = argv[k + 1];
        case "--compression" -> codec = argv[k + 1];
        default -> throw new IllegalArgumentException("unknown option " + argv[k]);
      }
    }
    if (bootstrap == null || topic == null) throw new IllegalArgumentException("--bootstrap and --topic are needed");
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "60000");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-record-errors");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      // Metadata first, so that every send below lands in the same batch.
      producer.partitionsFor(topic);
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < KEYS.length; i++) sent.add(producer.send(new ProducerRecord<>(topic, 0, KEYS[i], "v" + i)));
      producer.flush();
      List<Integer> again = new ArrayList<>();
      for (int i = 0; i < KEYS.length; i++) {
        String outcome = outcome(sent.get(i));
        System.out.println("send " + i + " " + KEYS[i] + " " + outcome);
        if (KEYS[i] != null && !outcome.startsWith("ok")) again.add(i);
      }
      List<Future<RecordMetadata>> resent = new ArrayList<>();
      for (int i : again) resent.add(producer.send(new ProducerRecord<>(topic, 0, KEYS[i], "v" + i)));
      producer.flush();
      for (int j = 0; j < again.size(); j++) {
        int i = again.get(j);
        System.out.println("resend " + i + " " + KEYS[i] + " " + outcome(resent.get(j)));
      }
    }
    read(bootstrap, topic);
  }

  private static String outcome(Future<RecordMetadata> f) throws InterruptedException {
    try {
      return "ok " + f.get().offset();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      return c.getClass().getSimpleName() + " " + String.valueOf(c.getMessage()).replace('\n', ' ');
    }
  }

  private static void read(String bootstrap, String topic) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      Map<TopicPartition, Long> end = consumer.endOffsets(List.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end.get(tp) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          System.out.println("read " + r.offset() + " " + r.key());
        }
      }
      System.out.println("end " + end.get(tp));
    }
  }
}
