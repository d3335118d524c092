// Shared test helpers: fixture and corpus locations, gzip reading, and the
// CLI runner. Corpus suites run when ../shared/corpus exists and always log
// how many cases they checked.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FIXTURES = join(ROOT, "test/fixtures");
export const SHARED = resolve(ROOT, "../shared");
export const CORPUS = join(SHARED, "corpus");
export const GOLDEN = join(SHARED, "golden");
export const HAS_CORPUS = existsSync(join(CORPUS, "k61-50/vmlinux.btf.gz"));
export const CLI = join(ROOT, "dist/cli.js");

/** Read a file, gunzipping when it ends in .gz. */
export function readMaybeGz(path: string): Uint8Array {
  const b = readFileSync(path);
  const out = path.endsWith(".gz") ? gunzipSync(b) : b;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function fixture(rel: string): Uint8Array { return readMaybeGz(join(FIXTURES, rel)); }
export function fixturePath(rel: string): string { return join(FIXTURES, rel); }
export function fixtureExists(rel: string): boolean { return existsSync(join(FIXTURES, rel)); }

/** Module names that have fixtures for kernel k. */
export function fixtureModules(k = "k61-50"): string[] {
  return readdirSync(join(FIXTURES, k, "modules")).map((f) => f.replace(/\.btf\.gz$/, "")).sort();
}

export function corpusModules(k: string): string[] {
  const d = join(CORPUS, k, "modules");
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith(".btf")).map((f) => f.slice(0, -4)).sort() : [];
}

export interface CliResult { code: number; stdout: Buffer; stderr: string }

/** Run the built CLI (npm run build first; npm test does). */
export function cli(args: string[], opts: { input?: Uint8Array } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: opts.input, maxBuffer: 1 << 30 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** First differing byte, for readable failures. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
