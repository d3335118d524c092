// The integrity checks of the xz container: CRC32 (IEEE, reflected, as in
// gzip), CRC64 (ECMA-182, reflected) and SHA-256 (FIPS 180-4). Tables are
// built on first use. CRC32, which kernels use, goes 8 bytes per step
// ("slicing by 8": eight 256-entry tables), ~4x faster than bytewise, which
// was ~12% of a kernel payload's decode; CRC64 stays bytewise.

let crc32Tab: usize = 0;
let crc64Tab: usize = 0;

function crcTables(): void {
  if (crc32Tab != 0) return;
  crc32Tab = heap.alloc(8 * 256 * 4);
  crc64Tab = heap.alloc(256 * 8);
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    store<u32>(crc32Tab + (<usize>i << 2), c);
    let d = <u64>i;
    for (let k = 0; k < 8; k++) d = (d & 1) ? (d >>> 1) ^ 0xc96c5795d7870f42 : d >>> 1;
    store<u64>(crc64Tab + (<usize>i << 3), d);
  }
  // Table k: the CRC of byte i followed by k zero bytes.
  for (let k: usize = 1; k < 8; k++) {
    for (let i: usize = 0; i < 256; i++) {
      const prev = load<u32>(crc32Tab + ((k - 1) << 10) + (i << 2));
      store<u32>(crc32Tab + (k << 10) + (i << 2), (prev >>> 8) ^ load<u32>(crc32Tab + (<usize>(prev & 0xff) << 2)));
    }
  }
}

@inline function t32(k: usize, i: u32): u32 {
  return load<u32>(crc32Tab + (k << 10) + (<usize>i << 2));
}

/** CRC32 of [p, p+len). */
export function crc32(p: usize, len: usize): u32 {
  crcTables();
  const t = crc32Tab;
  let c: u32 = 0xffffffff;
  const end = p + len;
  while (end - p >= 8) {
    const a = c ^ load<u32>(p);
    const b = load<u32>(p, 4);
    c = t32(7, a & 0xff) ^ t32(6, (a >>> 8) & 0xff) ^ t32(5, (a >>> 16) & 0xff) ^ t32(4, a >>> 24) ^
      t32(3, b & 0xff) ^ t32(2, (b >>> 8) & 0xff) ^ t32(1, (b >>> 16) & 0xff) ^ t32(0, b >>> 24);
    p += 8;
  }
  while (p < end) {
    c = load<u32>(t + (<usize>((c ^ <u32>load<u8>(p)) & 0xff) << 2)) ^ (c >>> 8);
    p++;
  }
  return ~c;
}

/** CRC64 (xz's, ECMA-182 polynomial, reflected) of [p, p+len). */
export function crc64(p: usize, len: usize): u64 {
  crcTables();
  const t = crc64Tab;
  let c: u64 = 0xffffffffffffffff;
  const end = p + len;
  while (p < end) {
    c = load<u64>(t + (<usize>((<u32>c ^ <u32>load<u8>(p)) & 0xff) << 3)) ^ (c >>> 8);
    p++;
  }
  return ~c;
}

// ---- SHA-256 ---------------------------------------------------------------

const K256: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

/** Working memory: 8 u32 state, 64 u32 schedule, a 64-byte tail block. */
const SHA_H: usize = memory.data(8 * 4 + 64 * 4 + 128);
const SHA_W: usize = SHA_H + 32;
const SHA_TAIL: usize = SHA_W + 256;

function shaBlock(p: usize): void {
  const w = SHA_W;
  for (let i: usize = 0; i < 16; i++) store<u32>(w + (i << 2), bswap<u32>(load<u32>(p + (i << 2))));
  for (let i: usize = 16; i < 64; i++) {
    const a = load<u32>(w + ((i - 15) << 2));
    const b = load<u32>(w + ((i - 2) << 2));
    const s0 = rotr<u32>(a, 7) ^ rotr<u32>(a, 18) ^ (a >>> 3);
    const s1 = rotr<u32>(b, 17) ^ rotr<u32>(b, 19) ^ (b >>> 10);
    store<u32>(w + (i << 2), load<u32>(w + ((i - 16) << 2)) + s0 + load<u32>(w + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(SHA_H), b = load<u32>(SHA_H, 4), c = load<u32>(SHA_H, 8), d = load<u32>(SHA_H, 12);
  let e = load<u32>(SHA_H, 16), f = load<u32>(SHA_H, 20), g = load<u32>(SHA_H, 24), h = load<u32>(SHA_H, 28);
  for (let i: usize = 0; i < 64; i++) {
    const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) +
      load<u32>(K256 + (i << 2)) + load<u32>(w + (i << 2));
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(SHA_H, load<u32>(SHA_H) + a); store<u32>(SHA_H, load<u32>(SHA_H, 4) + b, 4);
  store<u32>(SHA_H, load<u32>(SHA_H, 8) + c, 8); store<u32>(SHA_H, load<u32>(SHA_H, 12) + d, 12);
  store<u32>(SHA_H, load<u32>(SHA_H, 16) + e, 16); store<u32>(SHA_H, load<u32>(SHA_H, 20) + f, 20);
  store<u32>(SHA_H, load<u32>(SHA_H, 24) + g, 24); store<u32>(SHA_H, load<u32>(SHA_H, 28) + h, 28);
}

/** SHA-256 of [p, p+len) into the 32 bytes at `digest`. */
export function sha256(p: usize, len: usize, digest: usize): void {
  store<u32>(SHA_H, 0x6a09e667); store<u32>(SHA_H, 0xbb67ae85, 4);
  store<u32>(SHA_H, 0x3c6ef372, 8); store<u32>(SHA_H, 0xa54ff53a, 12);
  store<u32>(SHA_H, 0x510e527f, 16); store<u32>(SHA_H, 0x9b05688c, 20);
  store<u32>(SHA_H, 0x1f83d9ab, 24); store<u32>(SHA_H, 0x5be0cd19, 28);
  const full = len & ~(<usize>63);
  for (let o: usize = 0; o < full; o += 64) shaBlock(p + o);
  // The tail, the 0x80 marker and the bit length, in one or two blocks.
  const rest = len - full;
  memory.fill(SHA_TAIL, 0, 128);
  memory.copy(SHA_TAIL, p + full, rest);
  store<u8>(SHA_TAIL + rest, 0x80);
  const blocks: usize = rest < 56 ? 1 : 2;
  store<u64>(SHA_TAIL + blocks * 64 - 8, bswap<u64>(<u64>len << 3));
  shaBlock(SHA_TAIL);
  if (blocks == 2) shaBlock(SHA_TAIL + 64);
  for (let i: usize = 0; i < 8; i++) store<u32>(digest + (i << 2), bswap<u32>(load<u32>(SHA_H + (i << 2))));
}
