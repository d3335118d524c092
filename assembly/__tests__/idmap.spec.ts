import { IdMap } from "../idmap";
import { U32Map } from "../u32map";
import { KIND_ARRAY, KIND_FUNC_PROTO, KIND_STRUCT } from "../format";

describe("IdMap", () => {
  it("maps every id field of a record, leaving 0 and unmapped ids alone", () => {
    const m = new IdMap(10);
    m.set(3, 30);
    m.set(4, 40);
    // STRUCT with two members: name, info, size, then (name, type, offset) x2.
    const p = heap.alloc(36);
    store<u32>(p + 16, 3);
    store<u32>(p + 28, 7);
    m.applyToRecord(p, KIND_STRUCT, 2);
    expect(load<u32>(p + 16)).toBe(30);
    expect(load<u32>(p + 28)).toBe(7);
    // ARRAY: elem and index; FUNC_PROTO: return type (the size|type word), then params.
    store<u32>(p + 12, 4);
    store<u32>(p + 16, 0);
    m.applyToRecord(p, KIND_ARRAY, 0);
    expect(load<u32>(p + 12)).toBe(40);
    expect(load<u32>(p + 16)).toBe(0);
    store<u32>(p + 8, 3);
    store<u32>(p + 16, 99); // beyond the map: unchanged
    m.applyToRecord(p, KIND_FUNC_PROTO, 1);
    expect(load<u32>(p + 8)).toBe(30);
    expect(load<u32>(p + 16)).toBe(99);
    heap.free(p);
    m.dispose();
  });
});

describe("U32Map", () => {
  it("stores, overwrites and grows", () => {
    const m = new U32Map(4);
    for (let i: u32 = 0; i < 10000; i++) m.set(i * 7919, i);
    m.set(0, 12345);
    expect(m.get(0, 0xffffffff)).toBe(12345);
    expect(m.get(7919 * 9999, 0)).toBe(9999);
    expect(m.get(5, 0xffffffff)).toBe(0xffffffff);
    expect(m.add(5, 2)).toBe(2);
    expect(m.add(5, 2)).toBe(4);
    expect(m.size).toBe(10001);
    m.dispose();
  });
});
