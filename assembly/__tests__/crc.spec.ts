import { crc32, crc64, sha256 } from "../crc";

function strPtr(s: string): usize {
  const b = String.UTF8.encode(s);
  const p = heap.alloc(<usize>b.byteLength + 1);
  memory.copy(p, changetype<usize>(b), <usize>b.byteLength);
  return p;
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

function shaHex(p: usize, n: usize): string {
  const d = heap.alloc(32);
  sha256(p, n, d);
  let s = "";
  for (let i: usize = 0; i < 32; i++) {
    const b = load<u8>(d + i);
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  heap.free(d);
  return s;
}

describe("crc32", () => {
  it("matches the check value and zlib", () => {
    expect(crc32(strPtr("123456789"), 9)).toBe(0xcbf43926);
    expect(crc32(strPtr(""), 0)).toBe(0);
    expect(crc32(randomBytes(1003), 1003)).toBe(0x4347fa3c);
  });
});

describe("crc64", () => {
  it("matches the CRC-64/XZ check value (and xz --check=crc64)", () => {
    expect(crc64(strPtr("123456789"), 9)).toBe(0x995dc9bbdf1939fa);
    expect(crc64(strPtr(""), 0)).toBe(0);
  });
});

describe("sha256", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(shaHex(strPtr(""), 0)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(shaHex(strPtr("abc"), 3)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(shaHex(strPtr("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), 56))
      .toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });
  it("matches node's crypto at every padding boundary", () => {
    const p = randomBytes(1003);
    expect(shaHex(p, 55)).toBe("919386e15039a76a1bb3f153f6b00f29a83f97f97db953c5e73c03571124244f");
    expect(shaHex(p, 56)).toBe("24b47df627c27eb1fc2bd4bea761344048b8f1b9281d48ce36c0553c6793fc4b");
    expect(shaHex(p, 63)).toBe("4d38b014c81cb5bf10abef1b3dc7703f57778c03a0a1841dea40ac5434a6d46c");
    expect(shaHex(p, 64)).toBe("663b84376340c47c5e9c12729c95fff5191f6eaf0002bfb1428c4e3e8080ab18");
    expect(shaHex(p, 119)).toBe("5351d8670dec160c5f048c70ee30ebda8129423b46ba565ab08762aa2c317f06");
    expect(shaHex(p, 120)).toBe("d4ad8000d07a0fa73688990a7fb64534775dabb51c2025748aabb6ffe8247c76");
    expect(shaHex(p, 1003)).toBe("af4960195abcaab6cb0b72dfc8772387e72a9bad2c843891043afdc5858b21e5");
  });
});
