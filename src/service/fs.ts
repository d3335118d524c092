// Kernels from a directory, for Node and Deno (both provide node:fs). Two
// layouts are recognised, and a kernel is named after its file or folder:
//   DIR/<name>.btf, DIR/<name>.btf.gz (.xz, .zst), DIR/<name>.vmlinux[.gz ...]
//   DIR/<name>/vmlinux, DIR/<name>/vmlinux.btf[.gz ...]   (the corpus layout)
// Only names listed here can be asked for; files are read on first use.
// A kernel folder also holds its modules, for POST /core: every other file
// beside vmlinux (the layout of /sys/kernel/btf: vmlinux plus one file per
// module) and the files of a modules/ subfolder (the corpus layout), named as
// `btfkit core` names them (file name less .btf, .ko and compression suffixes)
// and searched in name order.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { KernelSource, BtfSource } from "./kernels.js";

const FILE = /^(.+?)\.(?:btf|vmlinux)(?:\.(?:gz|xz|zst|lz4))?$/;
const INNER = ["vmlinux.btf", "vmlinux.btf.gz", "vmlinux.btf.xz", "vmlinux.btf.zst", "vmlinux", "vmlinux.gz", "vmlinux.xz", "vmlinux.zst"];

function loader(path: string): BtfSource {
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
        if (st?.isFile()) {
          const kdir = join(dir, ent.name);
          const modules = await modulesIn(kdir, f, validName);
          out.set(ent.name, modules.size ? { vmlinux: loader(p), modules } : loader(p));
          break;
        }
      }
    }
  }
  return out;
}

const SUFFIX = /\.(?:btf|ko|gz|xz|zst|lz4)$/;

/** A module's name: its file name without .btf, .ko and compression suffixes (as `btfkit core`). */
function moduleName(file: string): string {
  let b = file;
  while (SUFFIX.test(b) && b.replace(SUFFIX, "").length > 0) b = b.replace(SUFFIX, "");
  return b;
}

async function modulesIn(kdir: string, vmlinuxFile: string, validName: RegExp): Promise<Map<string, BtfSource>> {
  const found: Array<[string, string]> = [];
  const scan = async (d: string, skip: (n: string) => boolean) => {
    const ents = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of ents) {
      if (!e.isFile() || skip(e.name)) continue;
      const m = moduleName(e.name);
      if (validName.test(m)) found.push([m, join(d, e.name)]);
    }
  };
  await scan(kdir, (n) => n === vmlinuxFile || INNER.includes(n));
  await scan(join(kdir, "modules"), () => false);
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out = new Map<string, BtfSource>();
  for (const [m, p] of found) if (!out.has(m)) out.set(m, loader(p));
  return out;
}
