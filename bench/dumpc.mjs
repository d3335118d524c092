// Timing of the C header dump, in-process, from a parsed Btf to the finished
// bytes (libbpf with bpftool's sorting: 64-67 ms for k61-50 on the reference
// machine).   node bench/dumpc.mjs [vmlinux.btf.gz] [runs]
// Two figures per mode: "core" ends when the header is complete in wasm
// memory; "api" is Btf#dumpCBytes, which also copies it out into a fresh
// Uint8Array (on this sandbox, first touches of fresh pages are slow: a
// 2.3 MB copy into new memory costs ~10 ms, into reused memory ~0.1 ms).
// Medians of wall time and of process CPU time (wall time includes waiting
// for a core when the machine is busy).
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { init, Btf } from "../dist/index.js";

const file = process.argv[2] ?? "../shared/corpus/k61-50/vmlinux.btf.gz";
const runs = Number(process.argv[3] ?? 21);
await init();
const raw = readFileSync(file);
const btf = Btf.parse(new Uint8Array(file.endsWith(".gz") ? gunzipSync(raw) : raw));
const core = btf.core();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

function time(fn) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return `wall ${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}), cpu ${median(cpu).toFixed(1)} ms (min ${Math.min(...cpu).toFixed(1)})`;
}

for (const [label, opts, flags] of [["sorted", {}, 0], ["unsorted", { unsorted: true }, 1]]) {
  const bytes = btf.dumpCBytes(opts).length; // warm-up
  const coreT = time(() => {
    if (!core.dumpCHeader(btf.handle, flags, 0, 0, 0)) throw new Error("dump failed");
    core.freeResult();
  });
  const apiT = time(() => btf.dumpCBytes(opts));
  console.log(`${label} (${bytes} bytes, ${runs} runs)\n  core: ${coreT}\n  api:  ${apiT}`);
}
btf.free();
