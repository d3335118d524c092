// The configured kernels of a check service: a fixed set of names, each with
// a way to get its BTF bytes. Each kernel is parsed once per instance, on
// first use, and kept; requests only ever look names up in this set, so a
// request cannot name a file.

import { init, loadBtf, BtfError } from "../index.js";
import type { Btf } from "../btf.js";
import type { CoreModule } from "../coreRelo.js";

/** Bytes of a kernel's BTF (vmlinux, raw .btf, compressed or not), or how to get them. */
export type BtfSource = Uint8Array | ArrayBuffer | (() => Promise<Uint8Array | ArrayBuffer>);

/**
 * A kernel with its module BTFs, as /sys/kernel/btf lays them out: module
 * name -> split BTF on this vmlinux (or a .ko), in the order libbpf searches
 * them. Modules are read only when a /core request needs one (a local type
 * vmlinux lacks); /check uses the vmlinux alone.
 */
export interface KernelWithModules {
  vmlinux: BtfSource;
  modules: Map<string, BtfSource> | (() => Promise<Map<string, BtfSource>>);
}

/** A configured kernel: its vmlinux BTF, or vmlinux plus modules. */
export type KernelSource = BtfSource | KernelWithModules;

const hasModules = (s: KernelSource): s is KernelWithModules =>
  typeof s === "object" && !(s instanceof Uint8Array) && !(s instanceof ArrayBuffer) && "vmlinux" in s;

/** What a request may call a kernel: no slashes, no leading dot, bounded. */
export const KERNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

const bytesOf = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));

export class KernelStore {
  private readonly sources: Map<string, KernelSource>;
  private readonly parsed = new Map<string, Promise<Btf>>();
  private readonly parsedModules = new Map<string, Promise<CoreModule[]>>();

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
        const vm = hasModules(src) ? src.vmlinux : src;
        const bytes = typeof vm === "function" ? bytesOf(await vm()) : bytesOf(vm);
        return loadBtf(bytes, { file: name });
      })();
      // A failed load is not cached, so a fixed file is picked up by the next request.
      p.catch(() => this.parsed.delete(name));
      this.parsed.set(name, p);
    }
    return p;
  }

  /** Whether the kernel was configured with module BTFs. */
  hasModules(name: string): boolean {
    const src = this.sources.get(name);
    return src !== undefined && hasModules(src);
  }

  /** The kernel's module BTFs, split on its vmlinux, in configured order; parsed once, on first need. */
  modules(name: string): Promise<CoreModule[]> {
    const src = this.sources.get(name);
    if (src === undefined || !hasModules(src)) return Promise.resolve([]);
    let p = this.parsedModules.get(name);
    if (!p) {
      p = (async () => {
        const base = await this.get(name);
        const list = typeof src.modules === "function" ? await src.modules() : src.modules;
        const mods: CoreModule[] = [];
        for (const [mod, s] of list) {
          const bytes = typeof s === "function" ? bytesOf(await s()) : bytesOf(s);
          mods.push({ name: mod, btf: await loadBtf(bytes, { file: `${name}/${mod}`, base }) });
        }
        return mods;
      })();
      p.catch(() => this.parsedModules.delete(name));
      this.parsedModules.set(name, p);
    }
    return p;
  }

  /** Kernels parsed so far (for health output). */
  loaded(): string[] { return [...this.parsed.keys()].sort(); }
}
