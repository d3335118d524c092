// `npm start`: btfkit's main job on a bundled real example (test/fixtures,
// taken from Debian's 6.1 kernel packages). It runs the CLI the way a user
// would and prints what each step shows.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const F = "test/fixtures";
const cli = "dist/cli.js";
if (!existsSync(cli)) {
  console.error("dist/cli.js is missing: run `npm run build` first (npm start does).");
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "btfkit-demo-"));

function run(title, args, { head } = {}) {
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
  return r.status;
}

const vmlinux50 = `${F}/k61-50/vmlinux.btf.gz`;
const vmlinux47 = `${F}/k61-47/vmlinux.btf.gz`;
const loop = `${F}/k61-50/modules/loop.btf.gz`;
const steps = [
  ["the kernel's BTF (Debian 6.1.0-50 vmlinux)", ["info", vmlinux50]],
  ["a module's split BTF on that kernel", ["info", loop, "--base", vmlinux50]],
  ["the module's own types, as bpftool prints them", ["dump", loop, "--base", vmlinux50], { head: 12 }],
];
let failed = 0;
for (const [title, args, o] of steps) if (run(title, args, o) !== 0) failed++;
console.log(`\n(work files in ${tmp}; ${vmlinux47} is the other kernel used by the tests)`);
process.exit(failed ? 1 : 0);
