// Objects the host holds are referred to by small integer handles; the tables
// here keep them reachable for the garbage collector until released. Results
// of operations (dumps, serialised bytes) go into one result sink that the
// host copies out, then frees.

import { Btf } from "./btf";
import { ByteSink } from "./sink";
import { Err, fail } from "./errors";

const btfs = new Array<Btf | null>();
const freeSlots = new Array<i32>();

export function putBtf(b: Btf): i32 {
  if (freeSlots.length > 0) {
    const h = freeSlots.pop();
    unchecked(btfs[h] = b);
    return h;
  }
  btfs.push(b);
  return btfs.length - 1;
}

/** The Btf for a handle, or null with BAD_HANDLE recorded. -1 means "none" and gives null silently. */
export function getBtf(h: i32): Btf | null {
  if (h < 0) return null;
  if (h >= btfs.length || unchecked(btfs[h]) === null) {
    fail(Err.BAD_HANDLE, -1, 0, "invalid BTF handle " + h.toString());
    return null;
  }
  return unchecked(btfs[h]);
}

export function validHandle(h: i32): bool {
  return h >= 0 && h < btfs.length && unchecked(btfs[h]) !== null;
}

export function dropBtf(h: i32): void {
  if (!validHandle(h)) return;
  unchecked(btfs[h])!.release();
  unchecked(btfs[h] = null);
  freeSlots.push(h);
}

let result: ByteSink | null = null;

/**
 * Cap on one operation's output (just under 512 MiB): the host copies it out
 * and may decode it to a JS string, whose length V8 caps at 2^29 - 24. Past
 * it the result reads as overflowed (TOO_LARGE) rather than the allocator
 * trapping: fuzz/extremes, the JSON dump of a struct with vlen 0xffffff.
 */
export const RESULT_LIMIT: u32 = 0x1fff0000;

/** A fresh sink for an operation's output; the previous result is freed. */
export function newResult(initial: u32): ByteSink {
  freeResult();
  const s = new ByteSink(initial < RESULT_LIMIT ? initial : RESULT_LIMIT);
  s.limit = RESULT_LIMIT;
  result = s;
  return s;
}

/** Did the current result run past RESULT_LIMIT (its bytes are then unusable)? */
export function resultOverflowed(): bool { return result !== null && result!.overflowed; }

export function freeResult(): void {
  if (result !== null) {
    result!.dispose();
    result = null;
  }
}

export function resultPtr(): usize { return result === null ? 0 : result!.ptr; }
export function resultLen(): u32 { return result === null ? 0 : result!.len; }
