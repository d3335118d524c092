// From any input form to a Btf: unwrap compression and kernel images
// (input.ts), then raw BTF directly or the BTF sections of an ELF file
// (elf.ts). This is what every CLI verb and Btf.load use.

import { Btf, ParseOptions } from "./btf.js";
import { BtfError } from "./errors.js";
import { unwrap, unwrapSync, UnwrapOptions, Unwrapped } from "./input.js";
import { btfFromElf } from "./elf.js";

export interface LoadOptions extends ParseOptions, UnwrapOptions {}

function fromUnwrapped(u: Unwrapped, opts: LoadOptions): Btf {
  try {
    if (u.kind === "elf") {
      const b = btfFromElf(u.bytes, opts);
      if (b.source) b.source.layers = u.layers;
      else b.source = { layers: u.layers, container: "elf" };
      return b;
    }
    const b = Btf.parse(u.bytes, opts);
    b.source = { layers: u.layers, container: "raw" };
    return b;
  } catch (e) {
    if (e instanceof BtfError && opts.file && !e.file) throw e.withFile(opts.file);
    throw e;
  }
}

/** Load BTF from raw BTF, ELF (vmlinux, .ko, BPF .o), gzip/xz/zstd/lz4, or a bzImage. */
export async function loadBtf(bytes: Uint8Array, opts: LoadOptions = {}): Promise<Btf> {
  let u: Unwrapped;
  try {
    u = await unwrap(bytes, opts);
  } catch (e) {
    if (e instanceof BtfError && opts.file && !e.file) throw e.withFile(opts.file);
    throw e;
  }
  return fromUnwrapped(u, opts);
}

/** Synchronous loadBtf (every form, xz included; needs init()). */
export function loadBtfSync(bytes: Uint8Array, opts: LoadOptions = {}): Btf {
  let u: Unwrapped;
  try {
    u = unwrapSync(bytes, opts);
  } catch (e) {
    if (e instanceof BtfError && opts.file && !e.file) throw e.withFile(opts.file);
    throw e;
  }
  return fromUnwrapped(u, opts);
}
