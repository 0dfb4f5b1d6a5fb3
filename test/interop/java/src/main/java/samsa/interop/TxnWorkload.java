package samsa.interop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The reference Java client (kafka-clients 4.x) in transactions, for Samsa's transaction tests (test/txn/). Run
 * from source like FaultWorkload: {@code java -cp 'target/lib/*' TxnWorkload.java <mode> --option value ...}.
 *
 * <pre>
 * session --bootstrap B --transactional-id ID [--transaction-timeout-ms 10000] [--max-block-ms 20000]
 *     A transactional producer driven line by line on stdin; prints "R" when created, then per command
 *     "ok CMD [detail]" or "err CMD ExceptionClass: message" (with the cause's class when it has one):
 *       init                                   initTransactions()
 *       begin | commit | abort                 beginTransaction() / commitTransaction() / abortTransaction()
 *       send TOPIC PARTITION PREFIX COUNT      COUNT records "PREFIX-i", waits for every acknowledgement;
 *                                              detail: the first and last offset
 *       offsets GROUP TOPIC PARTITION OFFSET   sendOffsetsToTransaction({TOPIC-PARTITION: OFFSET}, GROUP)
 *       close                                  close() and exit 0
 * read --bootstrap B --topic T --isolation read_committed|read_uncommitted [--min-count N] [--timeout-ms MS]
 *     Reads every partition from the beginning until each position reaches its end offset (the LSO under
 *     read_committed) and at least N records were read, or the time is up. One JSON line:
 *     {"values":[...],"positions":[...],"ends":[...],"timedOut":false}
 * ctp --bootstrap B --input T --output T2 --group G --transactional-id ID [--hang-after K]
 *     Consume-transform-produce: reads T (read_committed, partitions assigned, starting at G's committed
 *     offsets), writes "out:" + value to the same partition of T2 and commits the input offsets to G in the
 *     same transaction (sendOffsetsToTransaction), one transaction per poll. Prints "C n" after each commit
 *     (records committed by this run). Exits ("D n") once every input partition is read to its end.
 *     With --hang-after K: once K records are committed, sends the next poll's output in a transaction it
 *     never ends, prints "H" and waits to be killed.
 * </pre>
 */
public final class TxnWorkload {
  private TxnWorkload() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) usage();
    Map<String, String> o = new HashMap<>();
    for (int k = 1; k + 1 < argv.length; k += 2) o.put(argv[k].replaceFirst("^--", ""), argv[k + 1]);
    switch (argv[0]) {
      case "session" -> session(o);
      case "read" -> read(o);
      case "ctp" -> ctp(o);
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: TxnWorkload session|read|ctp --option value ... (see the class comment)");
    System.exit(2);
  }

  private static Properties producerProps(Map<String, String> o) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, need(o, "bootstrap"));
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-txn-java");
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, need(o, "transactional-id"));
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, o.getOrDefault("transaction-timeout-ms", "10000"));
    // How long initTransactions/commit/abort may block: a broker without transactions fails fast.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, o.getOrDefault("max-block-ms", "20000"));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "3000");
    p.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
    p.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "5000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }

  private static Properties consumerProps(String bootstrap, String isolation, String group) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-txn-java-reader");
    if (group != null) c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
    c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "5000");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return c;
  }

  private static void session(Map<String, String> o) throws Exception {
    KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(o));
    say("R");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.trim().split(" ");
      String cmd = f[0];
      if (cmd.isEmpty()) continue;
      try {
        switch (cmd) {
          case "init" -> {
            producer.initTransactions();
            say("ok init");
          }
          case "begin" -> {
            producer.beginTransaction();
            say("ok begin");
          }
          case "commit" -> {
            producer.commitTransaction();
            say("ok commit");
          }
          case "abort" -> {
            producer.abortTransaction();
            say("ok abort");
          }
          case "send" -> {
            int partition = Integer.parseInt(f[2]);
            int count = Integer.parseInt(f[4]);
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < count; i++)
              acks.add(producer.send(new ProducerRecord<>(f[1], partition, null, f[3] + "-" + i)));
            long first = -1;
            long last = -1;
            for (Future<RecordMetadata> a : acks) {
              long off = a.get().offset();
              if (first < 0) first = off;
              last = off;
            }
            say("ok send " + first + " " + last);
          }
          case "offsets" -> {
            TopicPartition tp = new TopicPartition(f[2], Integer.parseInt(f[3]));
            producer.sendOffsetsToTransaction(
                Map.of(tp, new OffsetAndMetadata(Long.parseLong(f[4]))), new ConsumerGroupMetadata(f[1]));
            say("ok offsets");
          }
          case "close" -> {
            producer.close(Duration.ofSeconds(5));
            say("ok close");
            System.exit(0);
          }
          default -> say("err " + cmd + " unknown command");
        }
      } catch (Exception e) {
        say("err " + cmd + " " + describe(e));
      }
    }
    producer.close(Duration.ofSeconds(5));
    System.exit(0);
  }

  private static List<TopicPartition> partitionsOf(KafkaConsumer<?, ?> consumer, String topic) {
    List<TopicPartition> parts = new ArrayList<>();
    for (PartitionInfo p : consumer.partitionsFor(topic)) parts.add(new TopicPartition(topic, p.partition()));
    parts.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
    return parts;
  }

  private static void read(Map<String, String> o) throws Exception {
    String topic = need(o, "topic");
    int minCount = Integer.parseInt(o.getOrDefault("min-count", "0"));
    long deadline = System.currentTimeMillis() + Long.parseLong(o.getOrDefault("timeout-ms", "30000"));
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(consumerProps(need(o, "bootstrap"), need(o, "isolation"), null))) {
      List<TopicPartition> parts = partitionsOf(consumer, topic);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      List<String> values = new ArrayList<>();
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      boolean timedOut = false;
      for (;;) {
        boolean atEnd = true;
        for (TopicPartition tp : parts) if (consumer.position(tp) < ends.get(tp)) atEnd = false;
        if (atEnd && values.size() >= minCount) break;
        if (System.currentTimeMillis() > deadline) {
          timedOut = true;
          break;
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) values.add(r.value());
        if (atEnd) ends = consumer.endOffsets(parts);
      }
      StringBuilder b = new StringBuilder("{\"values\":[");
      for (int i = 0; i < values.size(); i++) b.append(i == 0 ? "" : ",").append(quote(values.get(i)));
      b.append("],\"positions\":[");
      for (int i = 0; i < parts.size(); i++) b.append(i == 0 ? "" : ",").append(consumer.position(parts.get(i)));
      b.append("],\"ends\":[");
      for (int i = 0; i < parts.size(); i++) b.append(i == 0 ? "" : ",").append(ends.get(parts.get(i)));
      b.append("],\"timedOut\":").append(timedOut).append('}');
      say(b.toString());
    }
  }

  private static void ctp(Map<String, String> o) throws Exception {
    String input = need(o, "input");
    String output = need(o, "output");
    String group = need(o, "group");
    long hangAfter = Long.parseLong(o.getOrDefault("hang-after", "-1"));
    KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(o));
    KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(consumerProps(need(o, "bootstrap"), "read_committed", group));
    producer.initTransactions();
    List<TopicPartition> parts = partitionsOf(consumer, input);
    consumer.assign(parts);
    long committed = 0;
    for (;;) {
      ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
      if (records.isEmpty()) {
        Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
        boolean done = true;
        for (TopicPartition tp : parts) if (consumer.position(tp) < ends.get(tp)) done = false;
        if (done) break;
        continue;
      }
      boolean hang = hangAfter >= 0 && committed >= hangAfter;
      producer.beginTransaction();
      Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
      for (ConsumerRecord<String, String> r : records) {
        producer.send(new ProducerRecord<>(output, r.partition(), r.key(), "out:" + r.value()));
        next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
      }
      if (hang) {
        producer.flush();
        say("H");
        Thread.sleep(Long.MAX_VALUE);
      }
      producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
      producer.commitTransaction();
      committed += records.count();
      say("C " + committed);
    }
    say("D " + committed);
    consumer.close(Duration.ofSeconds(5));
    producer.close(Duration.ofSeconds(5));
    System.exit(0);
  }

  private static String describe(Throwable e) {
    String s = e.getClass().getSimpleName() + ": " + e.getMessage();
    Throwable c = e.getCause();
    if (c != null && c != e) s += " (cause " + c.getClass().getSimpleName() + ": " + c.getMessage() + ")";
    return s.replace('\n', ' ');
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static String need(Map<String, String> o, String k) {
    String v = o.get(k);
    if (v == null) {
      System.err.println("missing --" + k);
      System.exit(2);
    }
    return v;
  }
}
