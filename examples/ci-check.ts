// A CI gate for an out-of-tree module, for Deno:
//
//   deno run --allow-read examples/ci-check.ts MODULE KERNEL_BTF [KERNEL_BTF...] [--built-against KERNEL_BTF]
//
// MODULE is the module (.ko, or its raw split BTF), each KERNEL_BTF a kernel's
// BTF (vmlinux, /sys/kernel/btf/vmlinux, raw .btf; gzip/xz/zstd/lz4 or not).
// A module without .BTF.base needs --built-against: the kernel it was built
// for. A module distilled with `btfkit distill -o` carries its own base. Prints the JSON report (the same schema as the
// check service and `btfkit check --json`) and exits 0 when every kernel
// accepts the module, 1 when one does not, 2 on bad input or usage.
//
// In a project that depends on btfkit, import from "npm:btfkit" and its
// service entry instead of the relative dist/ paths used here.

import { init, loadBtf, BtfError } from "../dist/index.js";
import { checkModule, CHECKER } from "../dist/service.js";

function basename(p: string): string {
  return p.replace(/\/+$/, "").split("/").pop() ?? p;
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const bi = args.indexOf("--built-against");
  const builtPath = bi >= 0 ? args.splice(bi, 2)[1] : undefined;
  if (args.length < 2 || args.includes("-h") || args.includes("--help") || (bi >= 0 && !builtPath)) {
    console.error("usage: ci-check.ts MODULE KERNEL_BTF [KERNEL_BTF...] [--built-against KERNEL_BTF]");
    return 2;
  }
  const [modulePath, ...kernelPaths] = args;
  await init();
  const module = await Deno.readFile(modulePath);
  // Kernels are named after their file, or their folder for .../<name>/vmlinux*.
  const nameOf = (kp: string) => {
    const parts = kp.split("/");
    return /^vmlinux/.test(basename(kp)) && parts.length > 1 ? parts[parts.length - 2] : basename(kp);
  };
  const kernels = [];
  for (const kp of kernelPaths) kernels.push({ name: nameOf(kp), btf: await loadBtf(await Deno.readFile(kp), { file: kp }) });
  const builtAgainst = builtPath ? { name: nameOf(builtPath), btf: await loadBtf(await Deno.readFile(builtPath), { file: builtPath }) } : undefined;
  try {
    const results = await checkModule(module, basename(modulePath), kernels, { builtAgainst });
    for (const r of results) {
      console.error(`${r.module} on ${r.kernel}: ${r.ok ? "ok" : r.problems.map((p) => `${p.reason} ${p.kind.toLowerCase()} ${p.type}${p.path ? ` at ${p.path}` : ""}`).join("; ")}`);
    }
    console.log(JSON.stringify({ checker: CHECKER, results }, null, 2));
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    for (const k of kernels) k.btf.free();
    builtAgainst?.btf.free();
  }
}

try {
  Deno.exit(await main(Deno.args));
} catch (e) {
  if (e instanceof BtfError) console.error(`ci-check: ${e.describe()}`);
  else console.error(`ci-check: ${(e as Error).message ?? e}`);
  Deno.exit(2);
}
