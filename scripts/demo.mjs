// `npm start`: btfkit's main job on a bundled real example (test/fixtures,
// taken from Debian's 6.1 kernel packages). It runs the CLI the way a user
// would and prints what each step shows.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";

const F = "test/fixtures";
const cli = "dist/cli.js";
if (!existsSync(cli)) {
  console.error("dist/cli.js is missing: run `npm run build` first (npm start does).");
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "btfkit-demo-"));

function run(title, args, { head, expect = 0 } = {}) {
  console.log(`\n$ btfkit ${args.join(" ")}\n# ${title}`);
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  let out = r.stdout;
  if (head) {
    const lines = out.split("\n");
    out = lines.slice(0, head).join("\n") + (lines.length > head ? `\n... (${lines.length - head} more lines)` : "");
  }
  process.stdout.write(out.endsWith("\n") ? out : out + "\n");
  if (r.stderr) process.stdout.write(r.stderr);
  console.log(`# exit ${r.status}`);
  return r.status === expect ? 0 : 1;
}

const vmlinux50 = `${F}/k61-50/vmlinux.btf.gz`;
const vmlinux47 = `${F}/k61-47/vmlinux.btf.gz`;
const loop = `${F}/k61-50/modules/loop.btf.gz`;
const mods = ["loop", "tcp_bbr", "veth", "zl10353"].map((m) => `${F}/k61-50/modules/${m}.btf.gz`);
const koIn = join(tmp, "tcp_bbr.ko");
writeFileSync(koIn, gunzipSync(readFileSync(`${F}/k61-50/ko/tcp_bbr.ko.gz`)));
const koOut = join(tmp, "tcp_bbr.distilled.ko");
const steps = [
  ["the kernel's BTF (Debian 6.1.0-50 vmlinux)", ["info", vmlinux50], { head: 8 }],
  ["the module's own types, as bpftool prints them", ["dump", loop, "--base", vmlinux50], { head: 8 }],
  ["will these modules, built for 6.1.0-50, keep their BTF on 6.1.0-47? (the main job)", ["check", ...mods, "--built-against", vmlinux50, "--kernel", vmlinux50, "--kernel", vmlinux47], { expect: 1 }],
  ["make a module resilient: distill its BTF into .BTF.base (as kbuild does for out-of-tree modules)", ["distill", koIn, "--base", vmlinux50, "-o", koOut]],
  ["the distilled module needs no --built-against, and relocates onto the other kernel", ["check", koOut, "--kernel", vmlinux47]],
  ["the split BTF a 6.1.0-47 kernel would publish in /sys/kernel/btf/tcp_bbr (the kernel relocates, it does not dedup)", ["relocate", koOut, "--base", vmlinux47, "-o", join(tmp, "tcp_bbr.on-47.btf")]],
];
let failed = 0;
for (const [title, args, o] of steps) if (run(title, args, o) !== 0) failed++;
console.log(`\n(work files in ${tmp})`);
process.exit(failed ? 1 : 0);
