// Kernels from a directory, for Node and Deno (both provide node:fs). Two
// layouts are recognised, and a kernel is named after its file or folder:
//   DIR/<name>.btf, DIR/<name>.btf.gz (.xz, .zst), DIR/<name>.vmlinux[.gz ...]
//   DIR/<name>/vmlinux, DIR/<name>/vmlinux.btf[.gz ...]   (the corpus layout)
// Only names listed here can be asked for; files are read on first use.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { KernelSource } from "./kernels.js";

const FILE = /^(.+?)\.(?:btf|vmlinux)(?:\.(?:gz|xz|zst|lz4))?$/;
const INNER = ["vmlinux.btf", "vmlinux.btf.gz", "vmlinux.btf.xz", "vmlinux.btf.zst", "vmlinux", "vmlinux.gz", "vmlinux.xz", "vmlinux.zst"];

function loader(path: string): KernelSource {
  return async () => new Uint8Array(await readFile(path));
}

/** `validName` is the service's KERNEL_NAME (passed in, so this file stays a leaf of the bundle). */
export async function kernelsFromDir(dir: string, validName: RegExp): Promise<Map<string, KernelSource>> {
  const out = new Map<string, KernelSource>();
  for (const ent of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (ent.isFile()) {
      const m = FILE.exec(ent.name);
      if (m && validName.test(m[1]) && !out.has(m[1])) out.set(m[1], loader(join(dir, ent.name)));
    } else if (ent.isDirectory() && validName.test(ent.name)) {
      for (const f of INNER) {
        const p = join(dir, ent.name, f);
        const st = await stat(p).catch(() => null);
        if (st?.isFile()) { out.set(ent.name, loader(p)); break; }
      }
    }
  }
  return out;
}
