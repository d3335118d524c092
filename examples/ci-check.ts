// A CI gate for an out-of-tree module, for Deno:
//
//   deno run --allow-read examples/ci-check.ts MODULE KERNEL_BTF [KERNEL_BTF...]
//
// MODULE is the module's BTF (.ko, or raw split BTF as in /sys/kernel/btf/<mod>),
// each KERNEL_BTF a kernel's BTF (vmlinux, /sys/kernel/btf/vmlinux, raw .btf;
// gzip/xz/zstd/lz4 or not). Prints the JSON report (the same schema as the
// check service and `btfkit check --json`) and exits 0 when every kernel
// accepts the module, 1 when one does not, 2 on bad input or usage.
//
// In a project that depends on btfkit, import from "npm:btfkit" and its
// service entry instead of the relative dist/ paths used here.

import { init, loadBtf, BtfError } from "../dist/index.js";
import { checkOnKernel, CHECKER } from "../dist/service.js";

function basename(p: string): string {
  return p.replace(/\/+$/, "").split("/").pop() ?? p;
}

async function main(args: string[]): Promise<number> {
  if (args.length < 2 || args.includes("-h") || args.includes("--help")) {
    console.error("usage: ci-check.ts MODULE KERNEL_BTF [KERNEL_BTF...]");
    return 2;
  }
  const [modulePath, ...kernelPaths] = args;
  await init();
  const module = await Deno.readFile(modulePath);
  const results = [];
  for (const kp of kernelPaths) {
    // Kernels are named after their file, or their folder for .../<name>/vmlinux*.
    const parts = kp.split("/");
    const name = /^vmlinux/.test(basename(kp)) && parts.length > 1 ? parts[parts.length - 2] : basename(kp);
    const kernel = await loadBtf(await Deno.readFile(kp), { file: kp });
    try {
      const r = await checkOnKernel(module, basename(modulePath), kernel, name);
      console.error(`${r.module} on ${r.kernel}: ${r.ok ? "ok" : r.problems.map((p) => `${p.reason}${p.type ? ` (${p.type})` : ""}: ${p.found ?? ""}`).join("; ")}`);
      results.push(r);
    } finally {
      kernel.free();
    }
  }
  console.log(JSON.stringify({ checker: CHECKER, results }, null, 2));
  return results.every((r) => r.ok) ? 0 : 1;
}

try {
  Deno.exit(await main(Deno.args));
} catch (e) {
  if (e instanceof BtfError) console.error(`ci-check: ${e.describe()}`);
  else console.error(`ci-check: ${(e as Error).message ?? e}`);
  Deno.exit(2);
}
