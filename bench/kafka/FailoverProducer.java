// The failover probe of `npm run bench` (bench/lib/failover.ts): Kafka's Java producer (kafka-clients, the
// same client against Samsa and Apache Kafka) writes records round-robin to every partition of a topic at a
// fixed rate, with the client's defaults (acks=all, idempotence, retries until delivery.timeout.ms), and
// records when each partition's acknowledgements arrive. The bench kills a leader meanwhile and reads the
// gaps from stdout.
//
// Run (Java's source launcher, no build step):
//   java -cp "<kafka libs>/*" bench/kafka/FailoverProducer.java BOOTSTRAP TOPIC PARTITIONS RECORDS_PER_SEC
//        [RECORD_BYTES] [key=value producer config]...
// stdout, one line each:
//   ready                      every partition has had an acknowledgement
//   gap P FROM TO              partition P had no acknowledgement from FROM to TO (epoch ms, System.currentTimeMillis),
//                              printed when the first acknowledgement after a silence over GAP_MS arrives
//   error P MESSAGE            a record failed for good (the first per partition)
//   {"sent":N,...}             the summary, after "stop" on stdin (sending stops, the producer is closed)

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class FailoverProducer {
  static final long GAP_MS = 200;

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: FailoverProducer BOOTSTRAP TOPIC PARTITIONS RECORDS_PER_SEC [RECORD_BYTES] [k=v]...");
      System.exit(2);
    }
    String bootstrap = args[0];
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    double rate = Double.parseDouble(args[3]);
    int recordBytes = args.length > 4 ? Integer.parseInt(args[4]) : 100;
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "failover-probe");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    for (int i = 5; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());

    AtomicLongArray lastAck = new AtomicLongArray(partitions);
    AtomicLongArray maxGap = new AtomicLongArray(partitions);
    AtomicLongArray failed = new AtomicLongArray(partitions);
    AtomicLong acked = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    Object out = new Object();
    boolean[] readyPrinted = {false};
    byte[] value = new byte[recordBytes];
    for (int i = 0; i < value.length; i++) value[i] = (byte) ('A' + i % 26);

    Thread stdin = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null && !line.trim().equals("stop")) {}
      } catch (Exception e) {
        // stdin closed: stop as well
      }
    });
    stdin.setDaemon(true);
    stdin.start();

    long start = System.nanoTime();
    long sent = 0;
    while (stdin.isAlive()) {
      long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
      while (sent < due) {
        int p = (int) (sent % partitions);
        sent++;
        producer.send(new ProducerRecord<>(topic, p, null, value), (md, e) -> {
          long now = System.currentTimeMillis();
          if (e != null) {
            errors.incrementAndGet();
            if (failed.getAndIncrement(p) == 0) {
              synchronized (out) {
                System.out.println("error " + p + " " + e.toString().replace('\n', ' '));
                System.out.flush();
              }
            }
            return;
          }
          acked.incrementAndGet();
          long prev = lastAck.getAndSet(p, now);
          if (prev > 0 && now - prev > maxGap.get(p)) maxGap.set(p, now - prev);
          synchronized (out) {
            if (prev > 0 && now - prev > GAP_MS) {
              System.out.println("gap " + p + " " + prev + " " + now);
              System.out.flush();
            }
            if (!readyPrinted[0]) {
              boolean all = true;
              for (int i = 0; i < partitions; i++) all &= lastAck.get(i) > 0;
              if (all) {
                readyPrinted[0] = true;
                System.out.println("ready");
                System.out.flush();
              }
            }
          }
        });
      }
      Thread.sleep(1);
    }
    producer.close(Duration.ofSeconds(30));
    StringBuilder gaps = new StringBuilder();
    for (int i = 0; i < partitions; i++) gaps.append(i == 0 ? "" : ",").append(maxGap.get(i));
    synchronized (out) {
      System.out.println("{\"sent\":" + sent + ",\"acked\":" + acked.get() + ",\"errors\":" + errors.get()
          + ",\"maxGapMs\":[" + gaps + "]}");
      System.out.flush();
    }
  }
}
