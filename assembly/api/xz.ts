// xz decompression for the host (src/input.ts): the input is copied in
// once (copyIn), the output is left in the result sink and copied out once.
//
// Memory, as for zstd (assembly/api/zstd.ts): the input is allocated first,
// then the output (sized from the hint), so one decode of a 50 MB kernel
// leaves the wasm memory at about input + output; it never shrinks.

import { clearError } from "../errors";
import { newResult, freeResult } from "../handles";
import { xzDecompress, xzDeclaredSize, XZ_PLAUSIBLE_RATIO } from "../xz";
import { LZ_SLACK } from "../lzma";

/**
 * Decompress the xz streams at [ptr, ptr+len) into the result sink, at most
 * `max` bytes. `sizeHint` (0 = none), e.g. the size a bzImage appends to its
 * payload, only sizes the first allocation; it is not trusted.
 * Returns false with the error recorded (BAD_COMPRESSED, TOO_LARGE).
 */
export function xzDecode(ptr: usize, len: u32, max: f64, sizeHint: f64): bool {
  clearError();
  const cap = max > 0 ? max : 0;
  // The size the indexes declare (single-threaded xz, as kernels use, puts
  // no size in its block headers) sizes the buffer exactly; else a hint
  // gets one LZMA2 chunk of headroom; else 4x the input is a typical ratio
  // and the buffer doubles. Sizes far above the input (a hostile index or
  // bzImage trailer) are ignored.
  const declared = <f64>xzDeclaredSize(ptr, len);
  clearError();
  const limit = <f64>len * <f64>XZ_PLAUSIBLE_RATIO;
  let initial = <f64>len * 4;
  if (declared >= 0 && declared <= limit) initial = declared;
  else if (sizeHint > 0 && sizeHint <= limit) initial = sizeHint + 65536;
  if (initial < 65536) initial = 65536;
  if (initial > cap) initial = cap;
  if (initial > 0x3ff00000) initial = 0x3ff00000;
  const s = newResult(<u32>initial + LZ_SLACK);
  const ok = xzDecompress(ptr, len, s, cap > 0 ? <u64>cap : 0);
  if (!ok) freeResult();
  return ok;
}
