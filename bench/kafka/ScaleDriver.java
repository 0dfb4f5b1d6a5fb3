// The load driver of the scale curves of `npm run bench -- --only S` (bench/lib/scale.ts): Kafka's Java client
// (kafka-clients), the same driver against Samsa and Apache Kafka, many clients in one JVM.
//
// Run (Java's source launcher, no build step):
//   java -cp "<kafka libs>/*" bench/kafka/ScaleDriver.java produce BOOTSTRAP CLIENTS RECORDS RECORD_BYTES ACKS
//        TOPIC:PARTITIONS[,TOPIC:PARTITIONS]... [key=value producer config]...
//     CLIENTS producers (each its own KafkaProducer, so its own connections) send RECORDS records in all, round
//     robin over every partition of every topic (record k: producer k % CLIENTS, partition (k / CLIENTS) % all).
//     Each producer first sends one record and is flushed (metadata fetched, connections open): the timed part
//     starts after that. Latency: send() -> acknowledgement callback. The extra argument rate=N paces the sends
//     to N records/s in all (record k is sent no earlier than k/N s after the start), so that latency is measured
//     below saturation: the broker's, not time queued in the producers' buffers.
//   java ... ScaleDriver.java consume BOOTSTRAP MEMBERS TOPIC TIMEOUT_MS [key=value consumer config]...
//     MEMBERS consumers join one new group (classic protocol, auto.offset.reset=earliest) on TOPIC and read it
//     until every partition has been read to the end offset it had at the start.
// stdout: one JSON line with the figures (see the end of each mode); errors on stderr, exit 1.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ScaleDriver {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) usage();
    if (args[0].equals("produce") && args.length >= 7) produce(args);
    else if (args[0].equals("consume") && args.length >= 5) consume(args);
    else usage();
    System.exit(0);
  }

  static void usage() {
    System.err.println("usage: ScaleDriver produce BOOTSTRAP CLIENTS RECORDS RECORD_BYTES ACKS TOPIC:P[,TOPIC:P]... [k=v]...");
    System.err.println("       ScaleDriver consume BOOTSTRAP MEMBERS TOPIC TIMEOUT_MS [k=v]...");
    System.exit(2);
  }

  static void extra(Properties p, String[] args, int from) {
    for (int i = from; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq > 0) p.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
  }

  static double pct(float[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    int i = (int) Math.min(sorted.length - 1, Math.floor(q * sorted.length));
    return sorted[i];
  }

  static void produce(String[] args) throws Exception {
    String bootstrap = args[1];
    int clients = Integer.parseInt(args[2]);
    int records = Integer.parseInt(args[3]);
    int size = Integer.parseInt(args[4]);
    String acks = args[5];
    List<TopicPartition> targets = new ArrayList<>();
    for (String tp : args[6].split(",")) {
      int c = tp.lastIndexOf(':');
      String topic = tp.substring(0, c);
      int n = Integer.parseInt(tp.substring(c + 1));
      for (int p = 0; p < n; p++) targets.add(new TopicPartition(topic, p));
    }
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("acks", acks);
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    // Many producers in one JVM: a smaller buffer each (the pool allocates on demand, this is a cap).
    props.put("buffer.memory", Integer.toString(Math.max(1 << 20, Math.min(32 << 20, (512 << 20) / clients))));
    props.put("max.block.ms", "120000");
    extra(props, args, 7);
    Object rateArg = props.remove("rate");
    final double rate = rateArg == null ? 0 : Double.parseDouble(rateArg.toString());

    long c0 = System.nanoTime();
    KafkaProducer<byte[], byte[]>[] producers = newProducers(clients, props);
    byte[] value = new byte[size];
    Arrays.fill(value, (byte) 'x');
    // Warm-up: one record per producer, then flush: every producer has metadata and open connections.
    for (int i = 0; i < clients; i++) producers[i].send(new ProducerRecord<>(targets.get(i % targets.size()).topic(), targets.get(i % targets.size()).partition(), null, value));
    for (KafkaProducer<byte[], byte[]> p : producers) p.flush();
    double connectMs = (System.nanoTime() - c0) / 1e6;

    float[] lat = new float[records];
    AtomicLong errors = new AtomicLong();
    AtomicLong next = new AtomicLong();
    int threads = Math.min(clients, 16);
    long t0 = System.nanoTime();
    Thread[] ts = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      ts[t] = new Thread(() -> {
        for (;;) {
          long k = next.getAndIncrement();
          if (k >= records) return;
          if (rate > 0) {
            long due = t0 + (long) (k * 1e9 / rate);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime())
              java.util.concurrent.locks.LockSupport.parkNanos(wait);
          }
          KafkaProducer<byte[], byte[]> p = producers[(int) (k % clients)];
          TopicPartition tp = targets.get((int) ((k / clients) % targets.size()));
          final int idx = (int) k;
          final long sent = System.nanoTime();
          p.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, value), (md, e) -> {
            lat[idx] = (System.nanoTime() - sent) / 1e6f;
            if (e != null && errors.getAndIncrement() == 0) System.err.println("error: " + e);
          });
        }
      });
      ts[t].start();
    }
    for (Thread t : ts) t.join();
    for (KafkaProducer<byte[], byte[]> p : producers) p.flush();
    double sec = (System.nanoTime() - t0) / 1e9;
    closeAll(Arrays.asList(producers));
    double sum = 0;
    for (float l : lat) sum += l;
    float[] sorted = lat.clone();
    Arrays.sort(sorted);
    System.out.printf(
        "{\"records\":%d,\"errors\":%d,\"partitions\":%d,\"clients\":%d,\"connectMs\":%.1f,\"sec\":%.3f,"
            + "\"recordsPerSec\":%.1f,\"mbPerSec\":%.2f,\"avgMs\":%.2f,\"p50Ms\":%.2f,\"p99Ms\":%.2f,\"p999Ms\":%.2f,\"maxMs\":%.2f}%n",
        records, errors.get(), targets.size(), clients, connectMs, sec, records / sec, records * (double) size / sec / 1e6,
        records == 0 ? 0 : sum / records, pct(sorted, 0.5), pct(sorted, 0.99), pct(sorted, 0.999),
        records == 0 ? 0 : sorted[records - 1]);
    if (errors.get() > 0) System.exit(1);
  }

  @SuppressWarnings("unchecked")
  static KafkaProducer<byte[], byte[]>[] newProducers(int n, Properties props) {
    KafkaProducer<byte[], byte[]>[] out = new KafkaProducer[n];
    for (int i = 0; i < n; i++) {
      Properties p = (Properties) props.clone();
      p.put("client.id", "scale-" + i);
      out[i] = new KafkaProducer<>(p);
    }
    return out;
  }

  static void closeAll(Collection<? extends AutoCloseable> xs) {
    xs.parallelStream().forEach(x -> {
      try {
        x.close();
      } catch (Exception e) {
        // closing: nothing left to measure
      }
    });
  }

  static void consume(String[] args) throws Exception {
    String bootstrap = args[1];
    int members = Integer.parseInt(args[2]);
    String topic = args[3];
    long timeoutMs = Long.parseLong(args[4]);
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    props.put("auto.offset.reset", "earliest");
    extra(props, args, 5);

    // The end offsets at the start: what "read to the end" means.
    Map<TopicPartition, Long> ends;
    try (KafkaConsumer<byte[], byte[]> probe = new KafkaConsumer<>(props)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo pi : probe.partitionsFor(topic, Duration.ofSeconds(60))) tps.add(new TopicPartition(topic, pi.partition()));
      ends = probe.endOffsets(tps, Duration.ofSeconds(60));
    }
    int partitions = ends.size();
    long total = 0;
    long[] end = new long[partitions];
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      end[e.getKey().partition()] = e.getValue();
      total += e.getValue();
    }
    AtomicLongArray high = new AtomicLongArray(partitions);
    AtomicIntegerArray assigned = new AtomicIntegerArray(members);
    AtomicLongArray firstRecordNs = new AtomicLongArray(members);
    AtomicLong assignedAllNs = new AtomicLong();
    AtomicLong rebalances = new AtomicLong();
    AtomicLong consumed = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    int needAssigned = Math.min(members, partitions);
    String group = "scale-" + System.currentTimeMillis();
    List<KafkaConsumer<byte[], byte[]>> consumers = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      Properties p = (Properties) props.clone();
      p.put("group.id", group);
      p.put("client.id", "scale-" + i);
      consumers.add(new KafkaConsumer<>(p));
    }
    final long t0 = System.nanoTime();
    Thread[] ts = new Thread[members];
    for (int i = 0; i < members; i++) {
      final int m = i;
      final KafkaConsumer<byte[], byte[]> c = consumers.get(i);
      ts[i] = new Thread(() -> {
        c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
          public void onPartitionsRevoked(Collection<TopicPartition> ps) {
            assigned.set(m, 0);
          }

          public void onPartitionsAssigned(Collection<TopicPartition> ps) {
            rebalances.incrementAndGet();
            assigned.set(m, c.assignment().size());
            int n = 0;
            for (int j = 0; j < members; j++) if (assigned.get(j) > 0) n++;
            if (n >= needAssigned) assignedAllNs.compareAndSet(0, System.nanoTime() - t0);
          }
        });
        while (!done.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
            consumed.incrementAndGet();
            firstRecordNs.compareAndSet(m, 0, System.nanoTime() - t0);
            int p = r.partition();
            long v = r.offset() + 1;
            for (long h = high.get(p); h < v && !high.compareAndSet(p, h, v); h = high.get(p)) {}
          }
          boolean all = true;
          for (int p = 0; p < partitions && all; p++) all = high.get(p) >= end[p];
          if (all && done.compareAndSet(false, true)) finished.countDown();
        }
      });
      ts[i].start();
    }
    boolean ok = finished.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    double sec = (System.nanoTime() - t0) / 1e9;
    done.set(true);
    for (Thread t : ts) t.join(30_000);
    long everyFirst = 0;
    int withRecords = 0;
    for (int i = 0; i < members; i++) {
      long f = firstRecordNs.get(i);
      if (f > 0) {
        withRecords++;
        everyFirst = Math.max(everyFirst, f);
      }
    }
    closeAll(consumers);
    System.out.printf(
        "{\"ok\":%b,\"members\":%d,\"partitions\":%d,\"records\":%d,\"consumed\":%d,\"sec\":%.3f,\"recordsPerSec\":%.1f,"
            + "\"assignedMs\":%.1f,\"membersWithRecords\":%d,\"everyMemberConsumedMs\":%.1f,\"assignments\":%d}%n",
        ok, members, partitions, total, consumed.get(), sec, total / sec, assignedAllNs.get() / 1e6, withRecords,
        everyFirst / 1e6, rebalances.get());
    if (!ok) {
      System.err.println("timed out after " + timeoutMs + " ms");
      System.exit(1);
    }
  }
}
