// The C dump's merge sort (dump/c_sort.ts mergeSortU32): the order bpftool's
// qsort-based sort gives must not depend on how equal keys arrive, so the
// sort must be stable and total.
import { mergeSortU32 } from "../dump/c_sort";

/** Values are key << 16 | original index: compare keys only. */
function byKey(a: u32, b: u32): i32 { return <i32>(a >> 16) - <i32>(b >> 16); }

function sortAndCheck(n: u32, seed: u32): void {
  const arr = heap.alloc(<usize>n << 2);
  let x = seed;
  for (let i: u32 = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    store<u32>(arr + (<usize>i << 2), (((x >> 16) % 37) << 16) | i);
  }
  mergeSortU32(arr, n, byKey);
  for (let i: u32 = 1; i < n; i++) {
    const a = load<u32>(arr + (<usize>(i - 1) << 2));
    const b = load<u32>(arr + (<usize>i << 2));
    expect(a >> 16 <= b >> 16).toBe(true); // ordered by key
    if (a >> 16 == b >> 16) expect((a & 0xffff) < (b & 0xffff)).toBe(true); // stable
  }
  // A permutation: every original index once.
  const seen = new StaticArray<u8>(n);
  for (let i: u32 = 0; i < n; i++) seen[load<u32>(arr + (<usize>i << 2)) & 0xffff]++;
  for (let i: u32 = 0; i < n; i++) expect(seen[i]).toBe(1);
  heap.free(arr);
}

describe("mergeSortU32", () => {
  it("sorts stably at sizes around its run boundaries", () => {
    const sizes: u32[] = [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 1000, 4097];
    for (let i = 0; i < sizes.length; i++) sortAndCheck(sizes[i], 7 + <u32>i);
  });
  it("leaves sorted input alone and reverses reversed input", () => {
    const n: u32 = 100;
    const arr = heap.alloc(<usize>n << 2);
    for (let i: u32 = 0; i < n; i++) store<u32>(arr + (<usize>i << 2), ((n - i) << 16) | i);
    mergeSortU32(arr, n, byKey);
    for (let i: u32 = 0; i < n; i++) expect(load<u32>(arr + (<usize>i << 2)) & 0xffff).toBe(n - 1 - i);
    heap.free(arr);
  });
});
