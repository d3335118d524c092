// The zstd decoder's building blocks (zstd.ts): the FSE table spread
// (buildFse, RFC 8878 4.1.1), checked on the predefined tables against
// RFC 8878 Appendix A, and the Huffman tree description (RFC 8878 4.2.1).
import { zstdInit, huffTreeForSpec, hufEntryForSpec, hufBitsForSpec, predefinedCellForSpec } from "../zstd";

/** [next state base, bits, extra bits, baseline] of a predefined table cell. */
function cell(kind: i32, state: u32): u32[] {
  const c = predefinedCellForSpec(kind, state);
  return [<u32>load<u16>(c), <u32>load<u8>(c, 2), <u32>load<u8>(c, 3), load<u32>(c, 4)];
}

describe("predefined FSE tables", () => {
  it("literal lengths, states 0-3, as RFC 8878 Appendix A lists them", () => {
    zstdInit();
    expect(cell(0, 0)).toStrictEqual([0, 4, 0, 0]);
    expect(cell(0, 1)).toStrictEqual([16, 4, 0, 0]);
    expect(cell(0, 2)).toStrictEqual([32, 5, 0, 1]);
    expect(cell(0, 3)).toStrictEqual([0, 5, 0, 3]);
  });
  it("every cell's next-state range stays inside the table", () => {
    zstdInit();
    const logs: u32[] = [6, 5, 6];
    for (let k = 0; k < 3; k++) {
      const size: u32 = 1 << logs[k];
      for (let s: u32 = 0; s < size; s++) {
        const c = cell(k, s);
        expect(c[1]).toBeLessThanOrEqual(logs[k]);
        expect(c[0] + (<u32>1 << c[1])).toBeLessThanOrEqual(size);
      }
    }
  });
});

describe("Huffman tree description", () => {
  it("builds the decode table from directly stored weights", () => {
    zstdInit();
    // 3 weights as nibbles (2, 1, 1); the 4th symbol's weight is implied (3).
    const p = heap.alloc(3);
    store<u8>(p, 127 + 3);
    store<u8>(p + 1, 0x21);
    store<u8>(p + 2, 0x10);
    expect(huffTreeForSpec(p, p + 3)).toBe(p + 3);
    expect(hufBitsForSpec()).toBe(3);
    // Longer codes take the lower slots, symbols in order within a weight.
    const want: u32[] = [(1 << 8) | 3, (2 << 8) | 3, (0 << 8) | 2, (0 << 8) | 2, (3 << 8) | 1, (3 << 8) | 1, (3 << 8) | 1, (3 << 8) | 1];
    for (let i: u32 = 0; i < 8; i++) expect(hufEntryForSpec(i)).toBe(want[i]);
    heap.free(p);
  });
  it("refuses weights that do not form a prefix code", () => {
    zstdInit();
    // Weights (2, 2, 1): total 5, remainder 3 is not a power of two.
    const p = heap.alloc(3);
    store<u8>(p, 127 + 3);
    store<u8>(p + 1, 0x22);
    store<u8>(p + 2, 0x10);
    expect(huffTreeForSpec(p, p + 3)).toBe(0);
    heap.free(p);
  });
});
