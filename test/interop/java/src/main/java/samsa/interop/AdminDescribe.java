package samsa.interop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AclOperation;

/**
 * The reference Java Admin client (kafka-clients 4.x) describing topics and the cluster, for Samsa's
 * DescribeTopicPartitions and authorized-operations test (test/interop/admin-describe-java.test.ts). Compiled with
 * javac against the interop project's jars like TxnWorkload.
 *
 * <pre>
 * topics --bootstrap B --topics T1,T2 [--partition-limit N] [--authorized-ops true]
 *     Admin.describeTopics (DescribeTopicPartitions when the broker serves it, paged by N partitions per response:
 *     DescribeTopicsOptions.partitionSizeLimitPerResponse). One JSON line per topic:
 *     {"topic":"T1","topicId":"...","internal":false,"partitions":[0,1,...],"leaders":[0,...],
 *      "replicas":[1,...],"authorizedOperations":["ALTER",...]|null} or {"topic":"T2","error":"ExceptionClass"}
 * cluster --bootstrap B [--authorized-ops true]
 *     Admin.describeCluster. One JSON line: {"clusterId":"...","controller":0,"nodes":1,"authorizedOperations":[...]|null}
 * </pre>
 */
public final class AdminDescribe {
  private AdminDescribe() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) usage();
    Map<String, String> o = new HashMap<>();
    for (int k = 1; k + 1 < argv.length; k += 2) o.put(argv[k].replaceFirst("^--", ""), argv[k + 1]);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, need(o, "bootstrap"));
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "samsa-admin-describe");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    boolean ops = Boolean.parseBoolean(o.getOrDefault("authorized-ops", "false"));
    try (Admin admin = Admin.create(p)) {
      switch (argv[0]) {
        case "topics" -> topics(admin, o, ops);
        case "cluster" -> cluster(admin, ops);
        default -> usage();
      }
    }
  }

  private static void topics(Admin admin, Map<String, String> o, boolean ops) throws InterruptedException {
    List<String> names = Arrays.asList(need(o, "topics").split(","));
    DescribeTopicsOptions options = new DescribeTopicsOptions().includeAuthorizedOperations(ops);
    if (o.containsKey("partition-limit")) options.partitionSizeLimitPerResponse(Integer.parseInt(o.get("partition-limit")));
    Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(names, options).topicNameValues();
    for (String name : names) {
      try {
        TopicDescription d = futures.get(name).get();
        List<String> partitions = new ArrayList<>();
        List<String> leaders = new ArrayList<>();
        List<String> replicas = new ArrayList<>();
        for (TopicPartitionInfo tp : d.partitions()) {
          partitions.add(Integer.toString(tp.partition()));
          leaders.add(Integer.toString(tp.leader() == null ? -1 : tp.leader().id()));
          replicas.add(Integer.toString(tp.replicas().size()));
        }
        System.out.println("{\"topic\":" + quote(d.name()) + ",\"topicId\":" + quote(d.topicId().toString())
            + ",\"internal\":" + d.isInternal() + ",\"partitions\":[" + String.join(",", partitions) + "]"
            + ",\"leaders\":[" + String.join(",", leaders) + "],\"replicas\":[" + String.join(",", replicas) + "]"
            + ",\"authorizedOperations\":" + opsJson(d.authorizedOperations()) + "}");
      } catch (ExecutionException e) {
        System.out.println("{\"topic\":" + quote(name) + ",\"error\":" + quote(e.getCause().getClass().getSimpleName()) + "}");
      }
    }
  }

  private static void cluster(Admin admin, boolean ops) throws Exception {
    DescribeClusterResult r = admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(ops));
    System.out.println("{\"clusterId\":" + quote(r.clusterId().get()) + ",\"controller\":" + r.controller().get().id()
        + ",\"nodes\":" + r.nodes().get().size() + ",\"authorizedOperations\":" + opsJson(r.authorizedOperations().get()) + "}");
  }

  private static String opsJson(Set<AclOperation> ops) {
    if (ops == null) return "null";
    List<String> out = new ArrayList<>();
    for (AclOperation op : new TreeSet<>(ops)) out.add(quote(op.name()));
    return "[" + String.join(",", out) + "]";
  }

  private static void usage() {
    System.err.println("usage: AdminDescribe topics|cluster --option value ... (see the class comment)");
    System.exit(2);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
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
