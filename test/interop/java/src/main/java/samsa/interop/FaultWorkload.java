package samsa.interop;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The workload of Samsa's replication fault tests (test/helpers/replication-workload.ts) on the reference Java
 * client: an idempotent acks=all producer writing to every partition of a topic at a steady pace, and a consumer
 * group member reading the topic and committing automatically every 300 ms. It runs until stdin closes.
 *
 * <pre>
 * java -cp 'target/lib/*' FaultWorkload.java --bootstrap H:P,... --topic T --partitions N --group G --tag TAG
 *      [--rate RECORDS_PER_S_PER_PARTITION] [--in-flight MAX_UNACKED_PER_PARTITION]
 * </pre>
 *
 * Values are "TAG|partition|seq", seq counting per partition. Output, one line per event:
 * <pre>
 * R                              producer and consumer created
 * A partition offset seq ms      a record acknowledged (ms: wall clock of the acknowledgement)
 * F partition seq ms error       a record the producer gave up on (not acknowledged)
 * C consumed                     records the group member has read so far (every second)
 * E where error                  a consumer error (it goes on polling)
 * D                              stopped: the producer closed (flushing what it could)
 * </pre>
 */
public final class FaultWorkload {
  private FaultWorkload() {}

  private static final PrintStream out =
      new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, StandardCharsets.UTF_8);

  private static synchronized void emit(String line) {
    out.println(line);
  }

  private static synchronized void flush() {
    out.flush();
  }

  public static void main(String[] argv) throws Exception {
    java.util.Map<String, String> o = new java.util.HashMap<>();
    for (int k = 0; k + 1 < argv.length; k += 2) o.put(argv[k].replaceFirst("^--", ""), argv[k + 1]);
    String bootstrap = need(o, "bootstrap");
    String topic = need(o, "topic");
    int partitions = Integer.parseInt(need(o, "partitions"));
    String group = need(o, "group");
    String tag = need(o, "tag");
    double rate = Double.parseDouble(o.getOrDefault("rate", "200"));
    int inFlightMax = Integer.parseInt(o.getOrDefault("in-flight", "200"));

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-faults-java");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    // Never give up within a test: a record is acknowledged or still being retried when the run ends.
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
    p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "3000");
    p.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
    p.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "5000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-faults-java-group");
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
    c.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "300");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
    c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    c.put(ConsumerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "3000");
    c.put(ConsumerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
    c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "5000");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

    ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "flusher");
      t.setDaemon(true);
      return t;
    });
    flusher.scheduleAtFixedRate(FaultWorkload::flush, 50, 50, TimeUnit.MILLISECONDS);

    KafkaProducer<String, String> producer = new KafkaProducer<>(p);
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c);
    AtomicLong consumed = new AtomicLong();
    Thread member = new Thread(() -> {
      try {
        consumer.subscribe(List.of(topic));
        long lastReport = 0;
        for (;;) {
          try {
            ConsumerRecords<byte[], byte[]> rs = consumer.poll(Duration.ofMillis(200));
            consumed.addAndGet(rs.count());
          } catch (WakeupException e) {
            throw e;
          } catch (Exception e) {
            emit("E poll " + oneLine(e));
          }
          long now = System.currentTimeMillis();
          if (now - lastReport >= 1000) {
            emit("C " + consumed.get());
            lastReport = now;
          }
        }
      } catch (WakeupException e) {
        // stopping
      } finally {
        try {
          consumer.close(Duration.ofSeconds(10));
        } catch (Exception e) {
          emit("E close " + oneLine(e));
        }
      }
    }, "group-member");
    member.start();
    emit("R");

    java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread stdin = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.trim().equals("stop")) break;
        }
      } catch (Exception e) {
        // closed
      }
      running.set(false);
    }, "stdin");
    stdin.setDaemon(true);
    stdin.start();

    AtomicInteger[] inFlight = new AtomicInteger[partitions];
    long[] next = new long[partitions];
    long[] paced = new long[partitions];
    for (int q = 0; q < partitions; q++) inFlight[q] = new AtomicInteger();
    long start = System.nanoTime();
    long sent = 0;
    while (running.get()) {
      // Paced: partition q's record n is due at start + n / rate seconds; none beyond inFlightMax unacknowledged.
      long elapsedNs = System.nanoTime() - start;
      long due = (long) (elapsedNs / 1e9 * rate);
      for (int q = 0; q < partitions; q++) {
        while (paced[q] < due && inFlight[q].get() < inFlightMax) {
          paced[q]++;
          final int part = q;
          final long seq = next[q]++;
          inFlight[q].incrementAndGet();
          String value = tag + "|" + part + "|" + seq;
          try {
            producer.send(new ProducerRecord<>(topic, part, null, value), (meta, err) -> {
              inFlight[part].decrementAndGet();
              long now = System.currentTimeMillis();
              if (err == null) emit("A " + part + " " + meta.offset() + " " + seq + " " + now);
              else emit("F " + part + " " + seq + " " + now + " " + oneLine(err));
            });
          } catch (Exception e) {
            inFlight[part].decrementAndGet();
            emit("F " + part + " " + seq + " " + System.currentTimeMillis() + " " + oneLine(e));
          }
          sent++;
        }
        // Behind by more than a second (stalled partition): do not send a burst when it comes back.
        if (due - paced[q] > rate) paced[q] = due - (long) rate;
      }
      Thread.sleep(10);
    }
    producer.close(Duration.ofSeconds(30));
    consumer.wakeup();
    member.join(15_000);
    emit("C " + consumed.get());
    emit("D " + sent);
    flush();
    System.exit(0);
  }

  private static String oneLine(Throwable e) {
    String m = e.getClass().getSimpleName() + ": " + e.getMessage();
    return m.replace('\n', ' ');
  }

  private static String need(java.util.Map<String, String> o, String k) {
    String v = o.get(k);
    if (v == null) {
      System.err.println("missing --" + k);
      System.exit(2);
    }
    return v;
  }
}
