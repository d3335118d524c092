// Input sniffing and unwrapping, by content, never by file name: raw BTF,
// ELF, gzip, xz, zstd, LZ4 (legacy frame, as 6.1 cloud kernels use) and x86
// bzImage kernels. Every decompressor's output is capped.
//
// Libraries (all pure JS or wasm, identical in Node, Deno and browsers):
//  - fflate: gzip, synchronous, small, widely used.
//  - zstd: our own decoder in the wasm core (assembly/zstd.ts), synchronous;
//    ~20x faster than the pure-JS fzstd it replaced on 60 MB kernel payloads.
//  - xz: our own decoder in the wasm core (assembly/xz.ts: LZMA2 and the
//    x86 BCJ filter kernels use), synchronous. unwrap() stays async for
//    callers, but every format now also unwraps synchronously.
//  - LZ4 legacy frames are decoded by lz4.ts (the format is 40 lines).

import { Gunzip } from "fflate";
import { BtfError } from "./errors.js";
import { lz4LegacyDecode } from "./lz4.js";
import { init, guard, copyIn, takeResult, lastError, type CoreExports } from "./core.js";

export type InputKind = "btf" | "btf-be" | "elf" | "gzip" | "xz" | "zstd" | "lz4" | "bzimage" | "unknown";

/** Default cap on any decompressed output: 512 MiB (a vmlinux ELF is ~60 MB). */
export const DEFAULT_MAX_DECOMPRESSED = 512 * 1024 * 1024;

export function sniff(b: Uint8Array): InputKind {
  if (b.length >= 2 && b[0] === 0x9f && b[1] === 0xeb) return "btf";
  // A lone first byte of either magic order is BTF cut inside its magic:
  // let the parser report it as truncated rather than as unknown data.
  if (b.length === 1 && (b[0] === 0x9f || b[0] === 0xeb)) return "btf";
  if (b.length >= 2 && b[0] === 0xeb && b[1] === 0x9f) return "btf-be";
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return "elf";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return "xz";
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  if (b.length >= 4 && b[0] === 0x02 && b[1] === 0x21 && b[2] === 0x4c && b[3] === 0x18) return "lz4";
  // x86 boot protocol: "HdrS" at 0x202 and the 0xAA55 boot flag at 0x1fe.
  if (b.length >= 0x250 && b[0x1fe] === 0x55 && b[0x1ff] === 0xaa &&
      b[0x202] === 0x48 && b[0x203] === 0x64 && b[0x204] === 0x72 && b[0x205] === 0x53) return "bzimage";
  return "unknown";
}

export interface UnwrapOptions {
  /** Cap on each decompressed output, in bytes. */
  maxSize?: number;
}

export interface Unwrapped {
  bytes: Uint8Array;
  /** What was peeled off, outermost first, e.g. ["bzimage", "xz"]. */
  layers: string[];
  kind: InputKind;
}

function tooLarge(what: string, max: number): BtfError {
  return new BtfError("TOO_LARGE", `${what} output exceeds the cap of ${max} bytes`);
}

function gunzipCapped(b: Uint8Array, max: number): Uint8Array {
  if (b.length < 18) throw new BtfError("BAD_COMPRESSED", "gzip data truncated", { offset: b.length });
  // Streaming, so the cap holds whatever ISIZE claims (it is only the size mod 2^32).
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const g = new Gunzip((chunk, final) => {
    total += chunk.length;
    if (total > max) throw tooLarge("gzip", max);
    chunks.push(chunk);
    if (final) ended = true;
  });
  // fflate inflates everything a push() hands it before calling ondata, so
  // the input goes in slices: deflate expands at most ~1032:1, and a slice
  // of cap/1032 bytes cannot overshoot the cap by more than about the cap
  // (a 200 KB gzip of 200 MB of zeros stops after ~1 MB, not 200 MB).
  // Slices stay >= 1 KiB (tiny ones make fflate slow) and <= 64 KiB.
  const slice = Math.max(1024, Math.min(65536, Math.floor(max / 1032)));
  try {
    for (let i = 0; i < b.length; i += slice) g.push(b.subarray(i, i + slice), i + slice >= b.length);
  } catch (e) {
    if (e instanceof BtfError) throw e;
    throw new BtfError("BAD_COMPRESSED", `gzip: ${(e as Error).message}`);
  }
  if (!ended) throw new BtfError("BAD_COMPRESSED", "gzip stream truncated", { offset: b.length });
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/**
 * zstd through the core: the input is copied into wasm memory, decoded there
 * (cap checked before allocating when the frame declares its size, block by
 * block otherwise) and the output copied out once; both wasm buffers are
 * freed, but the wasm memory keeps its high-water mark (~input + output,
 * ~70 MB after a 60 MB kernel: acceptable for the CLI and a page; see
 * assembly/api/zstd.ts for repeated decodes).
 * `sizeHint` (a bzImage's appended size) only sizes the first allocation.
 * Needs the core initialised (unwrap() does it; unwrapSync() callers have).
 */
export function unzstdCapped(b: Uint8Array, max: number, sizeHint = 0): Uint8Array {
  return coreDecode(b, (c, ptr) => c.zstdDecode(ptr, b.length, max, sizeHint));
}

/** One decoder of the core over `b`: copy in, decode, free, copy the output out. */
function coreDecode(b: Uint8Array, decode: (c: CoreExports, ptr: number) => number): Uint8Array {
  return guard((c) => {
    const ptr = copyIn(b, c);
    const ok = decode(c, ptr) !== 0;
    c.memFree(ptr);
    if (!ok) throw lastError(c);
    return takeResult(c);
  });
}

/** The decompressed size a non-gzip bzImage payload ends with (0 when absent). */
function appendedSize(payload: Uint8Array): number {
  const n = payload.length;
  if (n < 4) return 0;
  return (payload[n - 4] | (payload[n - 3] << 8) | (payload[n - 2] << 16)) + payload[n - 1] * 0x1000000;
}

/**
 * xz through the core, exactly as unzstdCapped: cap checked before
 * allocating when a block header declares its size, LZMA2 chunk by chunk
 * otherwise; `sizeHint` only sizes the first allocation.
 * Needs the core initialised (unwrap() does it; unwrapSync() callers have).
 */
export function unxzCapped(b: Uint8Array, max: number, sizeHint = 0): Uint8Array {
  return coreDecode(b, (c, ptr) => c.xzDecode(ptr, b.length, max, sizeHint));
}

/** The compressed payload of an x86 bzImage (boot protocol >= 2.08), without the appended size. */
export function bzImagePayload(b: Uint8Array): { payload: Uint8Array; expectedSize?: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let setupSects = b[0x1f1];
  if (setupSects === 0) setupSects = 4;
  const version = dv.getUint16(0x206, true);
  if (version < 0x208) throw new BtfError("UNSUPPORTED", `bzImage boot protocol ${version.toString(16)} has no payload fields`, { offset: 0x206 });
  const payloadOffset = dv.getUint32(0x248, true);
  const payloadLength = dv.getUint32(0x24c, true);
  const start = (setupSects + 1) * 512 + payloadOffset;
  if (payloadLength < 4 || start + payloadLength > b.length)
    throw new BtfError("BAD_SECTION", `bzImage payload [${start}, +${payloadLength}) is outside the file (${b.length} bytes)`, { offset: 0x248 });
  const payload = b.subarray(start, start + payloadLength);
  return { payload, expectedSize: undefined };
}

/** Most layers unwrap peels (a file that decompresses into itself cannot loop). */
const MAX_LAYERS = 5;

/**
 * Peel compression and kernel-image layers until raw BTF or ELF is left, at
 * most MAX_LAYERS of them. Initialises the core, which zstd and xz need (and
 * every caller's next step, parsing, needs anyway).
 */
export async function unwrap(input: Uint8Array, opts: UnwrapOptions = {}): Promise<Unwrapped> {
  await init();
  return unwrapSync(input, opts);
}

/** unwrap() without the wait: needs the core initialised (init()). The one peeling loop. */
export function unwrapSync(input: Uint8Array, opts: UnwrapOptions = {}): Unwrapped {
  const max = opts.maxSize ?? DEFAULT_MAX_DECOMPRESSED;
  let bytes = input;
  const layers: string[] = [];
  let hint = 0;
  for (let depth = 0; depth < MAX_LAYERS; depth++) {
    const kind = sniff(bytes);
    switch (kind) {
      case "btf": case "btf-be": case "elf":
        return { bytes, layers, kind };
      case "gzip": bytes = gunzipCapped(bytes, max); break;
      case "zstd": bytes = unzstdCapped(bytes, max, hint); break;
      case "xz": bytes = unxzCapped(bytes, max, hint); break;
      case "lz4": bytes = lz4LegacyDecode(bytes, max); break;
      case "bzimage": {
        const { payload } = bzImagePayload(bytes);
        const gz = sniff(payload) === "gzip";
        // Non-gzip kernel payloads carry the decompressed size in their last 4 bytes.
        bytes = gz ? payload : payload.subarray(0, payload.length - 4);
        layers.push(kind);
        hint = gz ? 0 : appendedSize(payload);
        continue;
      }
      default:
        throw new BtfError("BAD_MAGIC", layers.length
          ? `after ${layers.join(" -> ")}: not BTF, ELF or a known compression format`
          : "not BTF, ELF, a kernel image or a known compression format (gzip, xz, zstd, lz4)", { offset: 0 });
    }
    layers.push(kind);
    hint = 0;
  }
  throw new BtfError("BAD_COMPRESSED", `too many nested layers (${layers.join(" -> ")})`);
}
