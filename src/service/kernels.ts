// The configured kernels of a check service: a fixed set of names, each with
// a way to get its BTF bytes. Each kernel is parsed once per instance, on
// first use, and kept; requests only ever look names up in this set, so a
// request cannot name a file.

import { init, loadBtf, BtfError } from "../index.js";
import type { Btf } from "../btf.js";

/** Bytes of a kernel's BTF (vmlinux, raw .btf, compressed or not), or how to get them. */
export type KernelSource = Uint8Array | ArrayBuffer | (() => Promise<Uint8Array | ArrayBuffer>);

/** What a request may call a kernel: no slashes, no leading dot, bounded. */
export const KERNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

const bytesOf = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));

export class KernelStore {
  private readonly sources: Map<string, KernelSource>;
  private readonly parsed = new Map<string, Promise<Btf>>();

  constructor(sources: Record<string, KernelSource> | Map<string, KernelSource>) {
    const entries = sources instanceof Map ? [...sources] : Object.keys(sources).map((k) => [k, sources[k]] as const);
    this.sources = new Map();
    for (const [name, src] of entries) {
      if (!KERNEL_NAME.test(name)) throw new BtfError("USAGE", `kernel name ${JSON.stringify(name)} is not allowed (${KERNEL_NAME})`);
      this.sources.set(name, src);
    }
  }

  names(): string[] { return [...this.sources.keys()].sort(); }
  has(name: string): boolean { return this.sources.has(name); }

  /** The parsed kernel; parsed once, shared by concurrent requests. */
  get(name: string): Promise<Btf> {
    const src = this.sources.get(name);
    if (src === undefined) return Promise.reject(new BtfError("USAGE", `unknown kernel ${name}`));
    let p = this.parsed.get(name);
    if (!p) {
      p = (async () => {
        await init();
        const bytes = typeof src === "function" ? bytesOf(await src()) : bytesOf(src);
        return loadBtf(bytes, { file: name });
      })();
      // A failed load is not cached, so a fixed file is picked up by the next request.
      p.catch(() => this.parsed.delete(name));
      this.parsed.set(name, p);
    }
    return p;
  }

  /** Kernels parsed so far (for health output). */
  loaded(): string[] { return [...this.parsed.keys()].sort(); }
}
