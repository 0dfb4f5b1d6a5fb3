package samsa.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produces and reads back the interop record scheme (see Records) with the reference Java client.
 *
 * <pre>
 * java -jar samsa-interop.jar produce --bootstrap H:P --topic T[,T2] --compression C[,C2] --count N
 *        --base-ts MS [--acked-file F] [--rate RECORDS_PER_S] [--allow-failures]
 * java -jar samsa-interop.jar consume --bootstrap H:P --topic T[,T2] --count N --base-ts MS
 * java -jar samsa-interop.jar verify  --bootstrap H:P --topic T --count N --base-ts MS --acked-file F
 * java -jar samsa-interop.jar digest  --count N --base-ts MS     (the scheme's SHA-256, no broker)
 * </pre>
 *
 * produce: acks=all with the idempotent producer (the 4.x defaults). With --acked-file it prints
 * "progress acked=N" on stderr every 1,000 acknowledgements and writes the acknowledged indexes (one
 * per line) to that file at the end. consume: partition 0 must hold exactly records 0..N-1 at offsets 0..N-1. verify (after
 * a crash): every record read must be a scheme record (its index is timestamp - base), in increasing
 * index order without duplicates, and every acknowledged index must be present. --profile
 * no-null-headers (default full) selects the scheme without null header values. Each mode prints one
 * JSON line per topic on stdout and exits 1 on any mismatch.
 */
public final class InteropClient {
  private InteropClient() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length < 1) usage("missing mode");
    String mode = argv[0];
    Map<String, String> opts = new HashMap<>();
    for (int k = 1; k < argv.length; k++) {
      String a = argv[k];
      if (!a.startsWith("--")) usage("unexpected argument " + a);
      if (a.equals("--allow-failures")) opts.put("allow-failures", "true");
      else if (k + 1 < argv.length) opts.put(a.substring(2), argv[++k]);
      else usage("missing value for " + a);
    }
    if (mode.equals("digest")) {
      // digest --count N --base-ts MS [--profile P]: the scheme's digest, no broker (records.test.ts).
      boolean nullHeaders = !opts.getOrDefault("profile", "full").equals("no-null-headers");
      System.out.println(Records.digest(Integer.parseInt(required(opts, "count")),
          Long.parseLong(required(opts, "base-ts")), nullHeaders));
      return;
    }
    String bootstrap = required(opts, "bootstrap");
    String[] topics = required(opts, "topic").split(",");
    int count = Integer.parseInt(required(opts, "count"));
    long base = Long.parseLong(required(opts, "base-ts"));
    String profile = opts.getOrDefault("profile", "full");
    if (!profile.equals("full") && !profile.equals("no-null-headers")) usage("--profile is full or no-null-headers");
    opts.put("null-header-values", Boolean.toString(profile.equals("full")));
    boolean ok = true;
    switch (mode) {
      case "produce" -> {
        String[] codecs = opts.getOrDefault("compression", "none").split(",");
        if (codecs.length != topics.length && codecs.length != 1) usage("--compression needs one codec per topic");
        for (int t = 0; t < topics.length; t++) {
          ok &= produce(bootstrap, topics[t], codecs[codecs.length == 1 ? 0 : t], count, base, opts);
        }
      }
      case "consume" -> {
        for (String topic : topics) ok &= consume(bootstrap, topic, count, base, opts, null);
      }
      case "verify" -> {
        BitSet acked = readAcked(Path.of(required(opts, "acked-file")));
        for (String topic : topics) ok &= consume(bootstrap, topic, count, base, opts, acked);
      }
      default -> usage("unknown mode " + mode);
    }
    System.exit(ok ? 0 : 1);
  }

  private static boolean produce(String bootstrap, String topic, String codec, int count, long base,
      Map<String, String> opts) throws IOException {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-interop-java");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    double rate = Double.parseDouble(opts.getOrDefault("rate", "0"));
    boolean progress = opts.containsKey("acked-file");
    boolean nullHeaders = Boolean.parseBoolean(opts.get("null-header-values"));
    BitSet acked = new BitSet(count);
    AtomicInteger ackedCount = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    long start = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) {
        if (rate > 0) {
          long due = start + (long) (i * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) sleepNanos(wait);
        }
        final int index = i;
        ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, null, Records.timestamp(base, i),
            Records.key(i), Records.value(i), Records.headers(i, nullHeaders));
        producer.send(rec, (md, err) -> {
          if (err == null) {
            synchronized (acked) {
              acked.set(index);
            }
            int n = ackedCount.incrementAndGet();
            if (progress && n % 1000 == 0) System.err.println("progress acked=" + n);
          } else {
            failed.incrementAndGet();
            firstError.compareAndSet(null, index + ": " + err);
          }
        });
      }
      producer.flush();
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (opts.containsKey("acked-file")) {
      StringBuilder sb = new StringBuilder();
      synchronized (acked) {
        for (int i = acked.nextSetBit(0); i >= 0; i = acked.nextSetBit(i + 1)) sb.append(i).append('\n');
      }
      Files.writeString(Path.of(opts.get("acked-file")), sb.toString());
    }
    boolean ok = failed.get() == 0 || opts.containsKey("allow-failures");
    System.out.println("{\"client\":\"java\",\"mode\":\"produce\",\"topic\":" + json(topic) + ",\"compression\":"
        + json(codec) + ",\"count\":" + count + ",\"acked\":" + ackedCount.get() + ",\"failed\":" + failed.get()
        + ",\"ms\":" + ms + ",\"ok\":" + ok + ",\"error\":" + json(firstError.get()) + "}");
    return ok;
  }

  /** Reads partition 0 from its start to its end offset; acked == null means the exact check. */
  private static boolean consume(String bootstrap, String topic, int count, long base, Map<String, String> opts,
      BitSet acked) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-interop-java");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    long timeoutMs = Long.parseLong(opts.getOrDefault("timeout-ms", "60000"));
    boolean nullHeaders = Boolean.parseBoolean(opts.get("null-header-values"));
    List<String> errors = new ArrayList<>();
    int read = 0;
    int mismatches = 0;
    BitSet present = new BitSet(count);
    long start = System.nanoTime();
    long beginOffset = -1;
    long endOffset = -1;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<PartitionInfo> parts = consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs));
      if (parts == null || parts.size() != 1) {
        errors.add("expected 1 partition, found " + (parts == null ? 0 : parts.size()));
        mismatches++;
      }
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      beginOffset = consumer.beginningOffsets(List.of(tp)).get(tp);
      endOffset = consumer.endOffsets(List.of(tp)).get(tp);
      if (acked == null && (beginOffset != 0 || endOffset != count)) {
        errors.add("offsets: expected [0, " + count + "), found [" + beginOffset + ", " + endOffset + ")");
        mismatches++;
      }
      long deadline = System.nanoTime() + timeoutMs * 1_000_000;
      int lastIndex = -1;
      while (consumer.position(tp) < endOffset) {
        if (System.nanoTime() > deadline) {
          errors.add("timed out at offset " + consumer.position(tp) + " of " + endOffset);
          mismatches++;
          break;
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= endOffset) continue;
          read++;
          String err;
          int index;
          if (acked == null) {
            index = (int) r.offset();
          } else {
            long idx = r.timestamp() - base;
            index = idx >= 0 && idx < count ? (int) idx : -1;
          }
          if (index < 0 || index >= count) {
            err = "offset " + r.offset() + ": timestamp " + r.timestamp() + " is not in the run";
          } else if (index <= lastIndex) {
            err = "offset " + r.offset() + ": index " + index + " after index " + lastIndex + " (duplicate or reordered)";
          } else if (r.timestampType() != TimestampType.CREATE_TIME) {
            err = "offset " + r.offset() + ": timestamp type " + r.timestampType();
          } else {
            err = Records.diff(index, base, nullHeaders, r.key(), r.value(), r.headers(), r.timestamp());
            if (err != null) err = "offset " + r.offset() + " (index " + index + "): " + err;
          }
          if (err != null) {
            mismatches++;
            if (errors.size() < 10) errors.add(err);
          } else {
            present.set(index);
            lastIndex = index;
          }
        }
      }
    } catch (RuntimeException e) {
      mismatches++;
      errors.add(e.toString());
    }
    int missing = 0;
    int ackedCount = 0;
    if (acked != null) {
      ackedCount = acked.cardinality();
      BitSet lost = (BitSet) acked.clone();
      lost.andNot(present);
      missing = lost.cardinality();
      if (missing > 0) errors.add("acknowledged but missing: " + missing + ", first " + lost.nextSetBit(0));
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    boolean ok = mismatches == 0 && missing == 0;
    StringBuilder errs = new StringBuilder("[");
    for (int k = 0; k < errors.size(); k++) errs.append(k > 0 ? "," : "").append(json(errors.get(k)));
    errs.append(']');
    System.out.println("{\"client\":\"java\",\"mode\":\"" + (acked == null ? "consume" : "verify") + "\",\"topic\":"
        + json(topic) + ",\"count\":" + count + ",\"read\":" + read + ",\"present\":" + present.cardinality()
        + ",\"acked\":" + ackedCount + ",\"missing\":" + missing + ",\"mismatches\":" + mismatches
        + ",\"startOffset\":" + beginOffset + ",\"endOffset\":" + endOffset + ",\"ms\":" + ms + ",\"ok\":" + ok
        + ",\"errors\":" + errs + "}");
    return ok;
  }

  private static BitSet readAcked(Path file) throws IOException {
    BitSet b = new BitSet();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) b.set(Integer.parseInt(line.trim()));
    }
    return b;
  }

  private static void sleepNanos(long nanos) {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) usage("missing --" + name);
    return v;
  }

  private static void usage(String why) {
    System.err.println("samsa-interop: " + why);
    System.err.println("usage: produce|consume|verify --bootstrap H:P --topic T[,T...] --count N --base-ts MS"
        + " [--compression C[,C...]] [--acked-file F] [--rate N] [--allow-failures] [--timeout-ms MS]"
        + " [--profile full|no-null-headers]");
    System.exit(2);
  }

  private static String json(String s) {
    if (s == null) return "null";
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }
}
