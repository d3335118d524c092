// The core's shared containers: U32Vec (vec.ts), U32Map (u32map.ts),
// StrSet and StrIndex (strings.ts). Each is checked against what a plain
// array or map would hold, through growth.
import { U32Vec } from "../vec";
import { U32Map } from "../u32map";
import { StrSet, indexSection } from "../strings";

function cstr(s: string): usize { return changetype<usize>(String.UTF8.encode(s, true)); }
function at(set: StrSet, off: u32): string { return String.UTF8.decodeUnsafe(set.data.ptr + off, <usize>s_len(set.data.ptr + off), false); }
function s_len(p: usize): u32 { let n: u32 = 0; while (load<u8>(p + n) != 0) n++; return n; }

describe("U32Vec", () => {
  it("keeps every pushed value through growth, and pops them last first", () => {
    const v = new U32Vec(1);
    for (let i: u32 = 0; i < 5000; i++) v.push(i * 7 + 1);
    expect(v.len).toBe(5000);
    expect(v.cap).toBeGreaterThanOrEqual(5000);
    for (let i: u32 = 0; i < 5000; i++) expect(v.get(i)).toBe(i * 7 + 1);
    for (let i: u32 = 5000; i > 4990; i--) expect(v.pop()).toBe((i - 1) * 7 + 1);
    expect(v.len).toBe(4990);
    v.free();
  });
  it("reserve() makes room for pushUnchecked", () => {
    const v = new U32Vec(16);
    v.push(9);
    v.reserve(1000);
    expect(v.cap).toBeGreaterThanOrEqual(1001);
    for (let i: u32 = 0; i < 1000; i++) v.pushUnchecked(i);
    expect(v.len).toBe(1001);
    expect(v.get(0)).toBe(9);
    expect(v.get(1000)).toBe(999);
    v.free();
  });
});

describe("U32Map", () => {
  it("agrees with a Map over clustered and scattered keys, through growth", () => {
    const m = new U32Map(4);
    const ref = new Map<u32, u32>();
    for (let i: u32 = 0; i < 20000; i++) {
      const k = i % 3 == 0 ? i : i * 2654435761;
      if (k == 0xffffffff) continue;
      m.set(k, i);
      ref.set(k, i);
    }
    expect(m.size).toBe(ref.size);
    const keys = ref.keys();
    for (let j = 0; j < keys.length; j++) expect(m.get(keys[j], 12345)).toBe(ref.get(keys[j]));
    expect(m.get(7, 12345)).toBe(12345); // 7 % 3 != 0 and 7 is never stored as i * 2654435761
    m.dispose();
  });
  it("add() counts from 0 and set() overwrites", () => {
    const m = new U32Map(16);
    expect(m.add(42, 1)).toBe(1);
    expect(m.add(42, 2)).toBe(3);
    m.set(42, 10);
    expect(m.get(42, 0)).toBe(10);
    expect(m.size).toBe(1);
    m.dispose();
  });
});

describe("StrSet", () => {
  it("dedups exactly, in first-insertion order, with \"\" at offset 0", () => {
    const s = new StrSet(true);
    const a = s.add(cstr("alpha"));
    const b = s.add(cstr("beta"));
    expect(a).toBe(1);
    expect(b).toBe(7);
    expect(s.add(cstr("alpha"))).toBe(a);
    expect(s.add(cstr(""))).toBe(0);
    expect(s.add(cstr("alph"))).toBe(12); // a prefix is its own string
    expect(s.find(cstr("beta"))).toBe(<i64>b);
    expect(s.find(cstr("gamma"))).toBe(-1);
    expect(at(s, b)).toBe("beta");
    expect(s.len).toBe(17);
    s.dispose();
  });
  it("keeps every string through growth", () => {
    const s = new StrSet(false, 4, 16);
    const offs = new Array<u32>();
    for (let i = 0; i < 3000; i++) offs.push(s.add(cstr("name" + i.toString())));
    for (let i = 0; i < 3000; i++) {
      expect(s.add(cstr("name" + i.toString()))).toBe(offs[i]);
      expect(at(s, offs[i])).toBe("name" + i.toString());
    }
    s.dispose();
  });
  it("refuses to grow past its byte limit (dedup's guard)", () => {
    const s = new StrSet(true, 16, 64, 10);
    expect(s.add(cstr("abcd"))).toBe(1); // bytes 1..5
    expect(s.overflow).toBe(false);
    expect(s.add(cstr("efghij"))).toBe(0); // would end at 13 > 10
    expect(s.overflow).toBe(true);
    expect(s.len).toBe(6);
    expect(s.add(cstr("abcd"))).toBe(1); // present strings still resolve
    s.dispose();
  });
});

describe("StrIndex", () => {
  it("indexes whole strings of a section, first occurrence winning", () => {
    // "\0ab\0cd\0ab\0b\0"
    const sec = heap.alloc(12);
    const bytes: u8[] = [0, 97, 98, 0, 99, 100, 0, 97, 98, 0, 98, 0];
    for (let i = 0; i < bytes.length; i++) store<u8>(sec + i, bytes[i]);
    const ix = indexSection(sec, 12);
    expect(ix.find(cstr("ab"))).toBe(1);
    expect(ix.find(cstr("cd"))).toBe(4);
    expect(ix.find(cstr("b"))).toBe(10); // not the tail of "ab": whole strings only
    expect(ix.find(cstr(""))).toBe(0);
    expect(ix.find(cstr("a"))).toBe(-1);
    ix.dispose();
    heap.free(sec);
  });
});
