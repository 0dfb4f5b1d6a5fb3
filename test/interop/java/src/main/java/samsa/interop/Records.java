package samsa.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The interop record scheme shared by every client (docs/interop.md, test/interop/records.ts,
 * test/interop/clients/records.py): record i of a run is a pure function of i and the run's base
 * timestamp, so a verifier in another process, language or broker lifetime can check it byte for
 * byte. Java produces the "full" profile: empty and null keys/values, duplicate and null-valued
 * headers, explicit CreateTime timestamps; --profile no-null-headers reads what kafkajs and
 * kafka-python wrote.
 */
final class Records {
  static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  static final String UNICODE_SUFFIX = "-\u00fcn\u00efc\u00f6d\u00e9-\u20ac-\uD83D\uDE00";

  private Records() {}

  static byte[] key(int i) {
    if (i % 7 == 0) return null;
    if (i % 19 == 0) return new byte[0];
    return utf8("key-" + i);
  }

  static byte[] value(int i) {
    if (i % 11 == 0) return null;
    if (i % 13 == 0) return new byte[0];
    StringBuilder sb = new StringBuilder("value-").append(i).append('-');
    int len = i % 1000 == 999 ? 20_000 : (i * 37) % 200;
    for (int j = 0; j < len; j++) sb.append(ALPHABET.charAt((int) ((i + 7L * j) % 36)));
    if (i % 23 == 0) sb.append(UNICODE_SUFFIX);
    return utf8(sb.toString());
  }

  /** nullHeaderValues=false is the "no-null-headers" profile (kafkajs, kafka-python cannot send them). */
  static List<Header> headers(int i, boolean nullHeaderValues) {
    List<Header> h = new ArrayList<>();
    if (i % 5 == 0) return h;
    h.add(new RecordHeader("h", utf8(Integer.toString(i))));
    if (i % 3 == 0) {
      h.add(new RecordHeader("dup", utf8("a")));
      h.add(new RecordHeader("dup", utf8("b")));
    }
    if (i % 4 == 0 && nullHeaderValues) h.add(new RecordHeader("nul", (byte[]) null));
    return h;
  }

  static long timestamp(long base, int i) {
    return base + i;
  }

  /** Describes the first difference between record i and what was read, or returns null. */
  static String diff(int i, long base, boolean nullHeaderValues, byte[] key, byte[] value, Iterable<Header> headers,
      long ts) {
    if (!Arrays.equals(key(i), key)) return "key differs: expected " + show(key(i)) + " got " + show(key);
    if (!Arrays.equals(value(i), value)) return "value differs: expected " + show(value(i)) + " got " + show(value);
    List<Header> want = headers(i, nullHeaderValues);
    List<Header> got = new ArrayList<>();
    headers.forEach(got::add);
    if (want.size() != got.size()) return "header count: expected " + want.size() + " got " + got.size();
    for (int k = 0; k < want.size(); k++) {
      Header w = want.get(k);
      Header g = got.get(k);
      if (!w.key().equals(g.key()) || !Arrays.equals(w.value(), g.value())) {
        return "header " + k + ": expected " + w.key() + "=" + show(w.value()) + " got " + g.key() + "=" + show(g.value());
      }
    }
    if (timestamp(base, i) != ts) return "timestamp: expected " + timestamp(base, i) + " got " + ts;
    return null;
  }

  /**
   * SHA-256 over records 0..count-1 in the canonical layout of test/interop/records.ts schemeDigest():
   * int32 length or -1 then bytes for key and value, int32 header count, each header's key and value
   * the same way, int64 timestamp; all big-endian.
   */
  static String digest(int count, long base, boolean nullHeaderValues) throws java.security.NoSuchAlgorithmException {
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    java.nio.ByteBuffer num = java.nio.ByteBuffer.allocate(8);
    java.util.function.Consumer<byte[]> put = b -> {
      md.update(num.clear().putInt(b == null ? -1 : b.length).array(), 0, 4);
      if (b != null) md.update(b);
    };
    for (int i = 0; i < count; i++) {
      put.accept(key(i));
      put.accept(value(i));
      List<Header> hs = headers(i, nullHeaderValues);
      md.update(num.clear().putInt(hs.size()).array(), 0, 4);
      for (Header h : hs) {
        put.accept(utf8(h.key()));
        put.accept(h.value());
      }
      md.update(num.clear().putLong(timestamp(base, i)).array(), 0, 8);
    }
    StringBuilder sb = new StringBuilder();
    for (byte b : md.digest()) sb.append(String.format("%02x", b));
    return sb.toString();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String show(byte[] b) {
    if (b == null) return "null";
    String s = new String(b, StandardCharsets.UTF_8);
    return "\"" + (s.length() > 40 ? s.substring(0, 40) + "...(" + b.length + " bytes)" : s) + "\"";
  }
}
