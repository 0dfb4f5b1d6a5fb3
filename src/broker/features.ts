// The feature flags this broker advertises in ApiVersions v3+ (KIP-584): supported ranges and finalized levels.
// Kafka finalizes them cluster-wide with kafka-features.sh / kafka-storage format --feature; Samsa reads the
// finalized level from the broker configuration (the same value on every broker of a cluster).
//   transaction.version  supported 0-2; finalized from the `transaction.version` key (default 2, as Kafka 4.x).
//                        At 2, Java clients 4.x use KIP-890 part 2: EndTxn v5 (an epoch bump per transaction),
//                        Produce v12 and TxnOffsetCommit v5 (partitions added by the leaders, not the producer).
// A level of 0 is not listed as finalized, as Kafka. The finalized epoch is fixed (the levels only change with
// a restart); clients only compare it with -1 (no finalized features).

import type { BrokerConfig } from '../config/broker-config.js';

export const TRANSACTION_VERSION_FEATURE = 'transaction.version';
/** The highest transaction.version this broker implements. */
export const TRANSACTION_VERSION_MAX = 2;
const FINALIZED_FEATURES_EPOCH = 1;

export interface AdvertisedFeatures {
  supportedFeatures: { name: string; minVersion: number; maxVersion: number }[];
  finalizedFeaturesEpoch: number;
  finalizedFeatures: { name: string; minVersionLevel: number; maxVersionLevel: number }[];
}

export function advertisedFeatures(config: BrokerConfig): AdvertisedFeatures {
  const level = config.int('transaction.version');
  return {
    supportedFeatures: [
      { name: TRANSACTION_VERSION_FEATURE, minVersion: 0, maxVersion: TRANSACTION_VERSION_MAX },
    ],
    finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
    finalizedFeatures:
      level === 0
        ? []
        : [{ name: TRANSACTION_VERSION_FEATURE, minVersionLevel: level, maxVersionLevel: level }],
  };
}
