import { ShapeTable, S_NAMED, S_LAYOUT } from "../diff/shapes";
import { sortU32 } from "../diff/compare";
import { KIND_STRUCT } from "../format";

/** A NUL-terminated copy of an ASCII string at a fresh address. */
function cstr(s: string): usize {
  const p = heap.alloc(s.length + 1);
  for (let i = 0; i < s.length; i++) store<u8>(p + i, <u8>s.charCodeAt(i));
  store<u8>(p + s.length, 0);
  return p;
}

describe("ShapeTable", () => {
  it("interns by content: names compare by bytes, not by address", () => {
    const t = new ShapeTable(16);
    const a1 = cstr("sock"), a2 = cstr("sock"), b = cstr("sk_buff");
    t.begin(S_NAMED); t.put(KIND_STRUCT); t.putName(a1);
    const x = t.intern();
    t.begin(S_NAMED); t.put(KIND_STRUCT); t.putName(a2);
    expect(t.intern()).toBe(x);
    t.begin(S_NAMED); t.put(KIND_STRUCT); t.putName(b);
    expect(t.intern()).not.toBe(x);
    // A non-name word that happens to equal a name's address is not a name.
    t.begin(S_LAYOUT); t.put(KIND_STRUCT); t.put(<u32>a1); t.put(0);
    const y = t.intern();
    t.begin(S_LAYOUT); t.put(KIND_STRUCT); t.put(<u32>a2); t.put(0);
    expect(t.intern()).not.toBe(y);
    heap.free(a1); heap.free(a2); heap.free(b);
    t.free();
  });

  it("keeps every distinct node when many share a table that grows", () => {
    const t = new ShapeTable(4);
    const ids = new Array<u32>();
    for (let i: u32 = 0; i < 5000; i++) { t.begin(S_LAYOUT); t.put(KIND_STRUCT); t.put(i); t.put(0); ids.push(t.intern()); }
    for (let i: u32 = 0; i < 5000; i++) { t.begin(S_LAYOUT); t.put(KIND_STRUCT); t.put(i); t.put(0); expect(t.intern()).toBe(ids[i]); }
    expect(t.count).toBe(5002); // + void and cycle
    t.free();
  });
});

describe("sortU32", () => {
  it("sorts short and long runs", () => {
    for (let n: u32 = 0; n < 70; n += 7) {
      const p = heap.alloc(<usize>(n + 1) << 2);
      for (let i: u32 = 0; i < n; i++) store<u32>(p + (<usize>i << 2), (i * 2654435761) ^ 0x5bd1e995);
      sortU32(p, n);
      for (let i: u32 = 1; i < n; i++) expect(load<u32>(p + (<usize>(i - 1) << 2)) <= load<u32>(p + (<usize>i << 2))).toBe(true);
      heap.free(p);
    }
  });
});
