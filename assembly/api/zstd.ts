// zstd decompression for the host (src/input.ts): the input is copied in
// once, the output is left in the result sink and copied out once.

import { clearError } from "../errors";
import { newResult, freeResult } from "../handles";
import { zstdDecompress, SLACK } from "../zstd";

/**
 * Decompress the zstd frames at [ptr, ptr+len) into the result sink, at
 * most `max` bytes. `sizeHint` (0 = none), e.g. the size a bzImage appends
 * to its payload, only sizes the first allocation; it is not trusted.
 * Returns false with the error recorded (BAD_COMPRESSED, TOO_LARGE).
 */
export function zstdDecode(ptr: usize, len: u32, max: f64, sizeHint: f64): bool {
  clearError();
  const cap = max > 0 ? max : 0;
  // Without a hint, 4x the input is a typical ratio; the buffer doubles from there.
  // A hint gets one block of headroom: the last block reserves its maximum.
  let initial = sizeHint > 0 ? sizeHint + 131072 : <f64>len * 4;
  if (initial < 65536) initial = 65536;
  if (initial > cap) initial = cap;
  if (initial > 0x3ff00000) initial = 0x3ff00000;
  const s = newResult(<u32>initial + SLACK);
  const ok = zstdDecompress(ptr, len, s, <u64>cap);
  if (!ok) freeResult();
  return ok;
}
