// Exports of `btfkit diff` (diff/): a session holds the shape table shared by
// the BTFs being compared; the host adds each BTF once, then asks for any
// pair (two for a plain diff, every step of a history).

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { DiffSession } from "../diff/compare";

let session: DiffSession | null = null;

/**
 * Start a session (an open one is dropped); `expected` is about how many
 * types each BTF has (0: small), to size the shape table once.
 */
export function diffBegin(expected: u32): void {
  diffEnd();
  session = new DiffSession(expected < (1 << 22) ? expected : 1 << 22);
}

/** Drop the session and the references it holds on its BTFs. */
export function diffEnd(): void {
  if (session !== null) session!.free();
  session = null;
}

/**
 * Add BTF `h` to the session: the own shapes of its own keyed types, only
 * those named by the C string at `name` (0: all) and of `kind` (0: any),
 * into side `into` when it holds the same BTF (another name), else a new
 * side (-1). Returns the side's index, or -1.
 */
export function diffAdd(h: i32, name: usize, kind: u32, into: i32): i32 {
  clearError();
  if (session === null) { fail(Err.USAGE, -1, 0, "diffAdd outside a session"); return -1; }
  const b = getBtf(h);
  if (b === null) return -1;
  return session!.add(b, name, kind, into);
}

/**
 * Compare side `a` (old) with side `b` (new); the records go to the result
 * sink (format in diff/compare.ts). Returns how many keys differ, or -1.
 */
export function diffCompare(a: i32, b: i32, details: bool): i32 {
  clearError();
  if (session === null) { fail(Err.USAGE, -1, 0, "diffCompare outside a session"); return -1; }
  const n = session!.sides.length;
  if (a < 0 || b < 0 || a >= n || b >= n) { fail(Err.USAGE, -1, 0, "no such diff side"); return -1; }
  return <i32>session!.compare(a, b, details, newResult(4096));
}
