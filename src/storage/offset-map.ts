// The log cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap): an open-addressing hash table in typed
// arrays that stores a 16-byte hash of each key (MurmurHash3 x86 128-bit) and the offset of the key's latest
// record, never the key itself, so its memory is bounded: 24 bytes per slot, growing from a small table up to
// the slots needed for maxKeys at a load factor of 0.75. Two keys with the same 128-bit hash would be taken for
// one (Kafka accepts the same with MD5); at a million keys the odds are about 1 in 10^26.

const LOAD_FACTOR = 0.75;
const INITIAL_SLOTS = 1 << 14;

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function u32le(buf: Uint8Array, i: number): number {
  return buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
}

/** MurmurHash3_x86_128 of buf[pos, pos + len) with seed 0, into out[0..3] (int32 lanes h1..h4). */
export function murmur3x86x128(buf: Uint8Array, pos: number, len: number, out: Int32Array): void {
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  const blocksEnd = pos + (len & ~15);
  let p = pos;
  for (; p < blocksEnd; p += 16) {
    let k1 = u32le(buf, p);
    let k2 = u32le(buf, p + 4);
    let k3 = u32le(buf, p + 8);
    let k4 = u32le(buf, p + 12);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul((rotl(h1, 19) + h2) | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul((rotl(h2, 17) + h3) | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul((rotl(h3, 15) + h4) | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul((rotl(h4, 13) + h1) | 0, 5) + 0x32ac3b17) | 0;
  }
  const tail = len & 15;
  if (tail > 0) {
    const k = [0, 0, 0, 0];
    for (let i = 0; i < tail; i++) k[i >> 2]! ^= buf[p + i]! << ((i & 3) * 8);
    if (tail > 12) h4 ^= Math.imul(rotl(Math.imul(k[3]!, C4), 18), C1);
    if (tail > 8) h3 ^= Math.imul(rotl(Math.imul(k[2]!, C3), 17), C4);
    if (tail > 4) h2 ^= Math.imul(rotl(Math.imul(k[1]!, C2), 16), C3);
    h1 ^= Math.imul(rotl(Math.imul(k[0]!, C1), 15), C2);
  }
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[0] = h1;
  out[1] = (h2 + h1) | 0;
  out[2] = (h3 + h1) | 0;
  out[3] = (h4 + h1) | 0;
}

export class OffsetMap {
  private slots: number;
  private hashes: Int32Array;
  /** -1 marks an empty slot. */
  private offsets: Float64Array;
  private count = 0;
  private readonly h = new Int32Array(4);
  private readonly maxSlots: number;

  constructor(readonly maxKeys: number) {
    this.maxSlots = Math.max(INITIAL_SLOTS, Math.ceil(maxKeys / LOAD_FACTOR));
    this.slots = Math.min(INITIAL_SLOTS, this.maxSlots);
    this.hashes = new Int32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots).fill(-1);
  }

  /** Distinct keys stored. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get memoryBytes(): number {
    return this.slots * 24;
  }

  /** True when n more keys might not fit. */
  wouldOverflow(n: number): boolean {
    return this.count + n > this.maxKeys;
  }

  clear(): void {
    this.count = 0;
    this.offsets.fill(-1);
  }

  /** Records offset as the latest for the key buf[pos, pos + len). The caller checked wouldOverflow. */
  put(buf: Uint8Array, pos: number, len: number, offset: number): void {
    if (this.count + 1 > this.slots * LOAD_FACTOR) this.grow();
    murmur3x86x128(buf, pos, len, this.h);
    const slot = this.find(this.h);
    if (this.offsets[slot]! < 0) {
      this.count++;
      this.hashes.set(this.h, slot * 4);
    }
    this.offsets[slot] = offset;
  }

  /** The latest offset stored for the key, -1 when it is not in the map. */
  get(buf: Uint8Array, pos: number, len: number): number {
    murmur3x86x128(buf, pos, len, this.h);
    return this.offsets[this.find(this.h)]!;
  }

  /** The slot holding hash h, or the empty slot where it would go (linear probing). */
  private find(h: Int32Array): number {
    const hashes = this.hashes;
    const offsets = this.offsets;
    let slot = (h[0]! >>> 0) % this.slots;
    for (;;) {
      if (offsets[slot]! < 0) return slot;
      const at = slot * 4;
      if (
        hashes[at] === h[0] &&
        hashes[at + 1] === h[1] &&
        hashes[at + 2] === h[2] &&
        hashes[at + 3] === h[3]
      ) {
        return slot;
      }
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
  }

  private grow(): void {
    if (this.slots >= this.maxSlots) {
      throw new Error(`offset map is full (${this.count} keys); callers must check wouldOverflow first`);
    }
    const oldHashes = this.hashes;
    const oldOffsets = this.offsets;
    this.slots = Math.min(this.slots * 2, this.maxSlots);
    this.hashes = new Int32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots).fill(-1);
    const h = new Int32Array(4);
    for (let i = 0; i < oldOffsets.length; i++) {
      if (oldOffsets[i]! < 0) continue;
      h.set(oldHashes.subarray(i * 4, i * 4 + 4));
      const slot = this.find(h);
      this.hashes.set(h, slot * 4);
      this.offsets[slot] = oldOffsets[i]!;
    }
  }
}
