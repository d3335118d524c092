// Shared pieces of the benchmark harness: loading the built bundle as a
// fresh instance, reading inputs (decompressed here, outside any timing),
// locating the corpus, and statistics.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// BENCH_DIST points at another build of the bundle (e.g. an older commit's, for before/after figures).
export const DIST = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : join(ROOT, "dist/index.js");
export const CORPUS = resolve(ROOT, "../shared/corpus");
export const FIXTURES = join(ROOT, "test/fixtures");

let instanceSerial = 0;

/**
 * Import dist/index.js as a new module instance, so it has its own wasm
 * instance and its own linear memory. Node caches ES modules by URL; a
 * distinct query string gives a distinct module record. Returns the module
 * and the library's own cold-start figure (base64 decode + compile +
 * instantiate, measured inside init()).
 */
export async function freshLibrary() {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first`);
  const lib = await import(`${pathToFileURL(DIST).href}?instance=${++instanceSerial}`);
  await lib.init();
  return { lib, coldStartMs: lib.coldStart() };
}

/**
 * Bytes of the smallest valid base BTF (24-byte header, no types, a string
 * section holding only ""), used to reach a core instance's memory.
 */
const TINY_BTF = new Uint8Array([
  0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
]);

/**
 * Size of the instance's linear memory. The public API exposes no memory
 * figure, so parse a trivial blob and ask its handle for the core (an
 * internal accessor; a few dozen bytes, freed at once, never a new page).
 * Linear memory never shrinks, so after an op this is its high-water mark.
 */
export function wasmMemoryBytes(lib) {
  const b = lib.Btf.parse(TINY_BTF);
  try {
    return b.core().memory.buffer.byteLength;
  } finally {
    b.free();
  }
}

/**
 * Read an input file and peel compression with the library's own unwrapper
 * (content-sniffed: gzip, xz, zstd, lz4). Done in setup, never timed: the
 * libbpf figures are over bytes already in memory.
 */
export async function readInput(lib, path) {
  if (!existsSync(path)) throw new Error(`no such file: ${path}`);
  const raw = readFileSync(path);
  const u = await lib.unwrap(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  return { bytes: u.bytes, layers: u.layers, kind: u.kind, fileBytes: raw.length };
}

/** Raw BTF bytes of a file, or a clear error for containers this op does not take. */
export async function readRawBtf(lib, path) {
  const r = await readInput(lib, path);
  if (r.kind !== "btf" && r.kind !== "btf-be")
    throw new Error(`${path}: expected raw BTF (possibly compressed), found ${r.kind}`);
  return r;
}

/**
 * The base for a split input: --base when given, else the corpus layout's
 * `<kernel>/vmlinux.btf.gz` next to `<kernel>/modules/`.
 */
export function defaultBase(splitPath, given) {
  if (given) return given;
  const guess = join(dirname(resolve(splitPath)), "..", "vmlinux.btf.gz");
  if (existsSync(guess)) return guess;
  throw new Error(`${splitPath}: --base BASE is required`);
}

/** Where the default suite reads its inputs: the shared corpus when present, else the fixtures. */
export function suiteRoot() {
  // BENCH_ROOT=fixtures forces the fresh-clone behaviour.
  return process.env.BENCH_ROOT !== "fixtures" && existsSync(join(CORPUS, "k61-50/vmlinux.btf.gz"))
    ? { dir: CORPUS, name: "corpus", moduleExt: ".btf" }
    : { dir: FIXTURES, name: "fixtures", moduleExt: ".btf.gz" };
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return {
    min: s[0],
    median,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p90: q(0.9),
    max: s[s.length - 1],
  };
}

export function now() {
  return performance.now();
}

export function mb(n) {
  return (n / 1e6).toFixed(2) + " MB";
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}
