// Topic matching and the metadata hash of consumer groups.
//
// SubscribedTopicRegex is a Java RE2/J expression in Kafka, matched against the whole topic name
// (Pattern.matcher(topic).matches()). Samsa compiles it as a JavaScript RegExp anchored at both ends,
// with the 'u' flag. What differs: RE2/J refuses backreferences and lookaround (JS accepts them here);
// RE2/J's (?P<name>...) groups, \Q...\E quoting, \z, \pN-style classes without braces and inline flags
// other than (?i) at the start are refused here (INVALID_REGULAR_EXPRESSION), where RE2/J accepts them.
// A leading (?i) is taken as the 'i' flag. Internal topics never match (as Kafka).
//
// The metadata hash stands for the subscribed topics' ids and partition counts: when it changes (a topic
// created, deleted or given more partitions) the group epoch moves and a new target assignment is
// computed. Kafka 4.1+ writes a Murmur3-based hash (KIP-1101) in ConsumerGroupMetadataValue.MetadataHash;
// this one is the first 52 bits of a SHA-256 over the sorted (name, id, partitions) triples, so a group
// loaded from a Kafka-written log is rebalanced once when Samsa first sees it (harmless: the same
// assignment comes out of a sticky assignor).

import { createHash } from 'node:crypto';
import { consumerGroupRegexCacheMax, consumerGroupRegexLengthMax } from '../../../limits.js';

const cache = new Map<string, RegExp | null>();

/** The compiled expression, or null when it is not valid (or too long). */
export function compileTopicRegex(regex: string): RegExp | null {
  const hit = cache.get(regex);
  if (hit !== undefined || cache.has(regex)) return hit ?? null;
  let re: RegExp | null = null;
  if (regex.length <= consumerGroupRegexLengthMax) {
    let source = regex;
    let flags = 'u';
    if (source.startsWith('(?i)')) {
      source = source.slice(4);
      flags += 'i';
    }
    try {
      re = new RegExp(`^(?:${source})$`, flags);
    } catch {
      re = null;
    }
  }
  if (cache.size >= consumerGroupRegexCacheMax) cache.clear();
  cache.set(regex, re);
  return re;
}

export function metadataHash(topics: ReadonlyMap<string, { topicId: string; partitions: number }>): number {
  if (topics.size === 0) return 0;
  const h = createHash('sha256');
  for (const name of [...topics.keys()].sort()) {
    const t = topics.get(name);
    if (t !== undefined) h.update(`${name}\u0000${t.topicId}\u0000${t.partitions}\u0001`);
  }
  return h.digest().readUIntBE(0, 6) % 2 ** 52;
}
