// Timing of the C header dump, in-process, from a parsed Btf to the finished
// bytes (what libbpf's 64-67 ms for k61-50 sorted measures). Prints the
// median wall time and the median CPU time of the calling thread's process.
//   node bench/dumpc.mjs [vmlinux.btf.gz] [runs]
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { init, Btf } from "../dist/index.js";

const file = process.argv[2] ?? "../shared/corpus/k61-50/vmlinux.btf.gz";
const runs = Number(process.argv[3] ?? 15);
await init();
const raw = readFileSync(file);
const btf = Btf.parse(new Uint8Array(file.endsWith(".gz") ? gunzipSync(raw) : raw));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
for (const [label, opts] of [["sorted", {}], ["unsorted", { unsorted: true }]]) {
  btf.dumpCBytes(opts); // warm-up
  const t = [];
  const cpu = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    bytes = btf.dumpCBytes(opts).length;
    t.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  // On a busy machine wall time includes waiting for a core; CPU time does not.
  console.log(`${label}: wall median ${median(t).toFixed(1)} ms (min ${Math.min(...t).toFixed(1)}), ` +
    `cpu median ${median(cpu).toFixed(1)} ms (min ${Math.min(...cpu).toFixed(1)}) over ${runs} runs, ${bytes} bytes`);
}
btf.free();
