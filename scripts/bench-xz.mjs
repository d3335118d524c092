// Time the core's xz decoder on a kernel's bzImage payload (LZMA2 + x86 BCJ)
// against `xz -dc`, and on the same payload recompressed without BCJ
// (`xz -9`) against xz-decompress (xz-embedded in wasm, the library it
// replaced, which has no BCJ):
//   node scripts/bench-xz.mjs [vmlinuz]   (after npm run build)
// Default: the scale cache's Debian 6.1 image.
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { init, unwrapSync, wasmMemoryBytes } from "../dist/index.js";

const path = process.argv[2] ?? "/work/cache/scale/x/k61-50/boot/vmlinuz-6.1.0-50-amd64";
if (!existsSync(path)) { console.log(`no ${path}`); process.exit(0); }
const file = new Uint8Array(readFileSync(path));
await init();
const sha = (b) => createHash("sha256").update(b).digest("hex").slice(0, 16);
const rate = (n, ms) => `${ms.toFixed(0)} ms, ${(n / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;

/** First run (fresh pages) and the best of 4 more. */
function timeCore(input) {
  let best = Infinity, first = 0, out;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    out = unwrapSync(input);
    const t = performance.now() - t0;
    if (i === 0) first = t; else if (t < best) best = t;
  }
  return { out, first, best };
}

const k = timeCore(file);
console.log(`layers ${k.out.layers.join(" -> ")}: ${k.out.bytes.length} bytes, sha256 ${sha(k.out.bytes)}`);
console.log(`core xz (BCJ payload): first ${rate(k.out.bytes.length, k.first)}; best of 4 more ${rate(k.out.bytes.length, k.best)} (wasm memory ${(wasmMemoryBytes() / 1048576).toFixed(1)} MiB)`);

const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
const start = ((file[0x1f1] || 4) + 1) * 512 + dv.getUint32(0x248, true);
const payload = file.subarray(start, start + dv.getUint32(0x24c, true) - 4);
const dir = mkdtempSync(join(tmpdir(), "bench-xz-"));
try {
  writeFileSync(join(dir, "k.xz"), payload);
  let t0 = performance.now();
  const ref = execFileSync("xz", ["-dc", join(dir, "k.xz")], { maxBuffer: 1 << 30 });
  console.log(`xz -dc (process, BCJ payload): ${rate(ref.length, performance.now() - t0)}, sha256 ${sha(ref)} (${sha(ref) === sha(k.out.bytes) ? "same" : "DIFFERENT"})`);
  writeFileSync(join(dir, "raw"), ref);
  execFileSync("xz", ["-9", "-T1", "-k", join(dir, "raw")]);
  const plain = new Uint8Array(readFileSync(join(dir, "raw.xz")));
  const p = timeCore(plain);
  console.log(`core xz (xz -9, no BCJ, ${plain.length} bytes): first ${rate(p.out.bytes.length, p.first)}; best of 4 more ${rate(p.out.bytes.length, p.best)}`);
  t0 = performance.now();
  execFileSync("xz", ["-dc", join(dir, "raw.xz")], { maxBuffer: 1 << 30 });
  console.log(`xz -dc (process, no BCJ): ${rate(ref.length, performance.now() - t0)}`);
  let XzReadableStream;
  try { const m = await import("xz-decompress"); XzReadableStream = m.XzReadableStream ?? m.default.XzReadableStream; } catch { console.log("xz-decompress not installed"); process.exit(0); }
  t0 = performance.now();
  const reader = new XzReadableStream(new ReadableStream({ start(c) { c.enqueue(plain); c.close(); } })).getReader();
  const chunks = [];
  let n = 0;
  for (;;) { const { done, value } = await reader.read(); if (done) break; chunks.push(value); n += value.length; }
  const t = performance.now() - t0;
  const all = Buffer.concat(chunks);
  console.log(`xz-decompress (once, no BCJ): ${rate(n, t)}, sha256 ${sha(all)} (${sha(all) === sha(ref) ? "same" : "DIFFERENT"})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
