import { xxh64 } from "../xxh64";

function hashStr(s: string): u64 {
  const b = String.UTF8.encode(s);
  return xxh64(changetype<usize>(b), <usize>b.byteLength);
}

/** The bytes of test/fixtures/zstd/random.bin (its xorshift32 generator). */
function randomBytes(n: i32): usize {
  const p = heap.alloc(<usize>n);
  let s: u32 = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 17; s ^= s << 5;
    store<u8>(p + <usize>i, <u8>s);
  }
  return p;
}

describe("xxh64", () => {
  it("matches the published XXH64 vectors (seed 0)", () => {
    expect(hashStr("")).toBe(0xef46db3751d8e999);
    expect(hashStr("a")).toBe(0xd24ec4f1a98c6e5b);
    expect(hashStr("abc")).toBe(0x44bc2cf5ad770999);
    expect(hashStr("The quick brown fox jumps over the lazy dog")).toBe(0x0b242d361fda71bc);
  });
  it("matches the zstd CLI's frame checksums (low 32 bits) over stripes and every tail", () => {
    const p = randomBytes(1003);
    expect(<u32>xxh64(p, 1000)).toBe(0xefd2208f);
    expect(<u32>xxh64(p, 1003)).toBe(0x08c11466);
    expect(<u32>xxh64(p, 37)).toBe(0x97788e0b);
    heap.free(p);
  });
});
