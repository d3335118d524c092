// zstd decompression for the host (src/input.ts): the input is copied in
// once (copyIn), the output is left in the result sink and copied out once.
//
// Memory: the input is allocated first, then the output (sized from the
// hint), so one decode of a 60 MB kernel leaves the wasm memory at ~70 MB;
// the allocator (TLSF, which grows memory by doubling) would reach ~116 MB
// with the output first. The memory never shrinks: a later decode of the
// same size grows it once more (to ~140 MB) and then reuses that.

import { clearError } from "../errors";
import { newResult, freeResult } from "../handles";
import { zstdDecompress, zstdInit, SLACK, PLAUSIBLE_RATIO } from "../zstd";

/**
 * Decompress the zstd frames at [ptr, ptr+len) into the result sink, at
 * most `max` bytes. `sizeHint` (0 = none), e.g. the size a bzImage appends
 * to its payload, only sizes the first allocation; it is not trusted.
 * Returns false with the error recorded (BAD_COMPRESSED, TOO_LARGE).
 */
export function zstdDecode(ptr: usize, len: u32, max: f64, sizeHint: f64): bool {
  clearError();
  zstdInit();
  const cap = max > 0 ? max : 0;
  // A hint gets one block of headroom (a last block reserves its maximum);
  // without one, 4x the input is a typical ratio and the buffer doubles.
  // A hint far above the input (a hostile bzImage trailer) is ignored.
  const plausible = sizeHint > 0 && sizeHint <= <f64>len * <f64>PLAUSIBLE_RATIO;
  let initial = plausible ? sizeHint + 131072 : <f64>len * 4;
  if (initial < 65536) initial = 65536;
  if (initial > cap) initial = cap;
  if (initial > 0x3ff00000) initial = 0x3ff00000;
  const s = newResult(<u32>initial + SLACK);
  const ok = zstdDecompress(ptr, len, s, cap > 0 ? <u64>cap : 0);
  if (!ok) freeResult();
  return ok;
}
