// Time the core's zstd decoder against the zstd CLI on a kernel's bzImage payload:
//   node scripts/bench-zstd.mjs [vmlinuz]   (after npm run build)
// Default: the real-kernel test's cached Debian 6.12 image.
import { readFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { init, unwrapSync, wasmMemoryBytes } from "../dist/index.js";

const path = process.argv[2] ?? join(homedir(), ".cache/btfkit/kernel-test/6.12.95+deb12-cloud-amd64/vmlinuz");
if (!existsSync(path)) { console.log(`no ${path}`); process.exit(0); }
const file = new Uint8Array(readFileSync(path));
await init();
const sha = (b) => createHash("sha256").update(b).digest("hex").slice(0, 16);

// unwrapSync end to end (bzImage peeling is a subarray; copy in, decode,
// copy out). The first run pays for fresh pages (wasm memory growth and the
// JS output buffer); the best of the next 4 is the steady state.
const rate = (n, ms) => `${ms.toFixed(0)} ms, ${(n / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
let best = Infinity, first = 0, out, mem = 0;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const u = unwrapSync(file);
  const t = performance.now() - t0;
  if (i === 0) { first = t; mem = wasmMemoryBytes(); } else if (t < best) best = t;
  out = u;
}
console.log(`layers ${out.layers.join(" -> ")}: ${out.bytes.length} bytes, sha256 ${sha(out.bytes)}`);
console.log(`core zstd: first ${rate(out.bytes.length, first)} (wasm memory then ${(mem / 1048576).toFixed(1)} MiB); best of 4 more ${rate(out.bytes.length, best)} (wasm memory ${(wasmMemoryBytes() / 1048576).toFixed(1)} MiB)`);

// The reference: the zstd CLI on the same payload (fzstd, the pure-JS decoder
// this replaced, took ~10 s here; it is no longer a dependency).
// The payload as unwrap finds it: setup sectors, payload_offset/length, minus the appended size.
const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
const setup = (file[0x1f1] || 4) + 1;
const start = setup * 512 + dv.getUint32(0x248, true);
const payload = file.subarray(start, start + dv.getUint32(0x24c, true) - 4);
const { spawnSync } = await import("node:child_process");
const t0 = performance.now();
const z = spawnSync("zstd", ["-dc"], { input: payload, maxBuffer: 1 << 30 });
const t = performance.now() - t0;
if (z.error || z.status !== 0) { console.log("zstd CLI not available: no reference figure"); process.exit(0); }
console.log(`zstd -dc (a process, pipes included): ${rate(z.stdout.length, t)}, sha256 ${sha(z.stdout)} (${sha(z.stdout) === sha(out.bytes) ? "same" : "DIFFERENT"})`);
