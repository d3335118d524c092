// `btfkit check --jobs N`: the modules spread over N worker threads, each
// with its own core instance that parses every kernel once. This one file is
// both sides: checkInWorkers() (the CLI's thread) and the worker's loop
// (started when this file is loaded as a worker; rollup emits it as
// dist/check-worker.js). Also the input loading both sides share.
//
// Protocol: the CLI thread hands out module indices a few at a time; a
// worker answers each with the module's results and size records, or its
// error. The CLI thread adds them to one ReportBuilder strictly in module
// order, so the report (results, disagreements) and the first error are
// those of `--jobs 1`.

import { BtfError, type BtfErrorCode } from "../errors.js";
import { Btf } from "../btf.js";
import { init, guard, compiledModule } from "../core.js";
import { loadBtf } from "../load.js";
import { unwrap } from "../input.js";
import { elfBtfSections, elfBtfSectionsAt } from "../elf.js";
import { Checker, CheckResult, KernelInput, ModuleInput, ModuleSizes, ReportBuilder } from "../check.js";
import { readInput } from "./io.js";

/** A kernel file read and decompressed (by the CLI thread, once for all workers). */
export interface KernelBytes { bytes: Uint8Array; kind: string }

/**
 * Parse each distinct kernel file once; the same path given twice is the same
 * object. `read` holds kernels already read and decompressed.
 */
export async function loadKernels(paths: string[], cache: Map<string, KernelInput>, read?: Map<string, KernelBytes>): Promise<KernelInput[]> {
  const outK: KernelInput[] = [];
  for (const p of paths) {
    let k = cache.get(p);
    if (!k) {
      const u = read?.get(p) ?? await unwrap(readInput(p));
      const btf = await loadBtf(u.bytes, { file: p });
      k = { name: p, btf, raw: u.kind === "btf" ? u.bytes : btf.toBytes() };
      cache.set(p, k);
    }
    outK.push(k);
  }
  return outK;
}

/**
 * The .BTF of an uncompressed ELF module without .BTF.base, read straight
 * into the core's memory: a .ko is mostly code, and a copy of the whole file
 * on the JS heap and another into the core cost more than checking it.
 * undefined for anything else (compressed, raw BTF, a .BTF.base), which
 * takes the general path.
 */
async function plainKoBtf(path: string): Promise<Uint8Array | undefined> {
  let fs: typeof import("node:fs");
  try {
    fs = await import("node:fs");
  } catch {
    return undefined;
  }
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch {
    return undefined; // readInput reports it
  }
  try {
    const size = fs.fstatSync(fd).size;
    const magic = new Uint8Array(4);
    if (size < 64 || fs.readSync(fd, magic, 0, 4, 0) !== 4 || magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) return undefined;
    return guard((c) => {
      const ptr = c.memAlloc(size);
      try {
        let got = 0;
        while (got < size) {
          const n = fs.readSync(fd, new Uint8Array(c.memory.buffer, ptr + got, size - got), 0, size - got, got);
          if (n === 0) break;
          got += n;
        }
        const secs = elfBtfSectionsAt(c, ptr, got);
        if (secs.btfBase) return undefined;
        return new Uint8Array(c.memory.buffer, ptr + secs.btf.offset, secs.btf.size).slice();
      } finally {
        c.memFree(ptr);
      }
    });
  } catch (e) {
    if (e instanceof BtfError) throw e; // as the general path would report it
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

export async function loadModule(path: string): Promise<ModuleInput> {
  const btf = await plainKoBtf(path);
  if (btf) return { name: path, raw: btf };
  const u = await unwrap(readInput(path));
  if (u.kind === "elf") {
    // A .ko: with .BTF.base it carries its own distilled base; without, its
    // .BTF is plain split BTF, taken as bytes (it only parses on its kernel).
    const secs = elfBtfSections(u.bytes);
    if (secs.btfBase) {
      const btf = await loadBtf(u.bytes, { file: path });
      return { name: path, distilled: { split: btf, base: btf.source!.distilledBase! } };
    }
    return { name: path, raw: u.bytes.slice(secs.btf.offset, secs.btf.offset + secs.btf.size) };
  }
  return { name: path, raw: u.bytes };
}

export interface CheckJob {
  kernels: string[];
  builtAgainst?: string;
  strict: boolean;
}

/** Check one module file and drop what it holds in the core. */
export async function checkFile(checker: Checker, path: string): Promise<ReturnType<Checker["checkOne"]>> {
  const m = await loadModule(path);
  try {
    return checker.checkOne(m);
  } finally {
    if (m.distilled) { m.distilled.split.free(); m.distilled.base.free(); }
  }
}

/** A BtfError as plain data (what crosses the thread boundary). */
interface ErrorData { code: BtfErrorCode; message: string; offset?: number; typeId?: number; file?: string }

function errorData(e: unknown): ErrorData {
  if (e instanceof BtfError) return { code: e.code, message: e.message, offset: e.offset, typeId: e.typeId, file: e.file };
  return { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
}

function errorFrom(d: ErrorData): BtfError {
  return new BtfError(d.code, d.message, { offset: d.offset, typeId: d.typeId, file: d.file });
}

type ToWorker = { modules: { index: number; path: string }[] } | { stop: true };
type FromWorker =
  | { ready: true }
  | { failed: ErrorData } // before any module: the kernels did not load
  // results as JSON text: one string clones far cheaper than thousands of small objects.
  | { index: number; results: string; newKeys: string[]; keys: Uint32Array; sizes: Uint32Array }
  | { index: number; error: ErrorData };

const WORKER_FLAG = "btfkitCheckWorker";
/**
 * Modules a worker holds (being checked or queued), topped up BATCH at a
 * time: enough that it never waits for the next message, few enough that
 * the last modules spread over all workers.
 */
const HOLD = 4;
const BATCH = 2;

/** Worker threads usable here, and how many CPUs; undefined where there are none (e.g. --jobs 1 is the only way). */
export async function workerSupport(): Promise<{ cpus: number } | undefined> {
  try {
    const os = await import("node:os");
    await import("node:worker_threads");
    const cpus = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
    return { cpus: Math.max(1, cpus) };
  } catch {
    return undefined;
  }
}

/** The worker's script next to this bundle (dist/check-worker.js), or undefined when it is not there (running from src/). */
async function workerScript(): Promise<URL | undefined> {
  try {
    const url = new URL("./check-worker.js", import.meta.url);
    const { existsSync } = await import("node:fs");
    const { fileURLToPath } = await import("node:url");
    return url.protocol === "file:" && existsSync(fileURLToPath(url)) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Check `paths` on `jobs` worker threads; undefined when workers cannot run
 * here (the caller then checks in-process). `progress(done)` is called in
 * module order.
 */
export async function checkInWorkers(
  paths: string[], job: CheckJob, jobs: number, progress: (modulesDone: number) => void,
): Promise<ReportBuilder | undefined> {
  const script = await workerScript();
  if (!script) return undefined;
  const { Worker } = await import("node:worker_threads");
  // Read and decompress each kernel here, once, into shared memory: every
  // worker parses the same bytes (decompressing a .gz kernel costs more than
  // parsing it).
  const kernelBytes: Record<string, { bytes: Uint8Array; kind: string }> = {};
  for (const p of [...(job.builtAgainst ? [job.builtAgainst] : []), ...job.kernels]) {
    if (kernelBytes[p]) continue;
    const u = await unwrap(readInput(p));
    const shared = new Uint8Array(new SharedArrayBuffer(u.bytes.length));
    shared.set(u.bytes);
    kernelBytes[p] = { bytes: shared, kind: u.kind };
  }
  const builder = new ReportBuilder();
  const n = paths.length;
  // Answers that arrived before all earlier modules' answers.
  const slots: ({ results: CheckResult[]; sizes: ModuleSizes } | { error: ErrorData } | undefined)[] = new Array(n);
  let next = 0; // next module to hand out
  let flushed = 0; // modules added to the builder
  const workers: InstanceType<typeof Worker>[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => { if (!settled) { settled = true; reject(e); } };
      // Hand `w` modules until it holds `upTo`; returns how many it holds.
      const handOut = (w: InstanceType<typeof Worker>, holding: number, upTo: number): number => {
        const modules: { index: number; path: string }[] = [];
        while (holding + modules.length < upTo && next < n) { modules.push({ index: next, path: paths[next] }); next++; }
        if (modules.length) w.postMessage({ modules } satisfies ToWorker);
        return holding + modules.length;
      };
      for (let i = 0; i < jobs; i++) {
        const w = new Worker(script, { workerData: { [WORKER_FLAG]: job, module: compiledModule(), kernelBytes } });
        workers.push(w);
        // This worker's keys: worker key -> "KIND name" (each name crosses once).
        const keyNames: string[] = [];
        let holding = 0;
        w.on("message", (msg: FromWorker) => {
          if (settled) return;
          if ("ready" in msg) { holding = handOut(w, holding, HOLD); return; }
          if ("failed" in msg) { fail(errorFrom(msg.failed)); return; }
          holding--;
          if ("keys" in msg) {
            for (const k of msg.newKeys) keyNames.push(k);
            const keys: string[] = new Array(msg.keys.length);
            for (let j = 0; j < keys.length; j++) keys[j] = keyNames[msg.keys[j]];
            slots[msg.index] = { results: JSON.parse(msg.results) as CheckResult[], sizes: { keys, sizes: msg.sizes } };
          } else {
            slots[msg.index] = { error: msg.error };
          }
          // In module order: the report, and the first error as --jobs 1 would meet it.
          while (flushed < n && slots[flushed] !== undefined) {
            const s = slots[flushed]!;
            slots[flushed] = undefined;
            if ("error" in s) { fail(errorFrom(s.error)); return; }
            builder.add(paths[flushed], s.results, s.sizes);
            flushed++;
            progress(flushed);
          }
          if (flushed === n) { settled = true; resolve(); return; }
          if (holding <= HOLD - BATCH) holding = handOut(w, holding, HOLD);
        });
        w.on("error", fail);
        w.on("exit", (code) => { if (!settled && code !== 0) fail(new BtfError("INTERNAL", `check worker exited with code ${code}`)); });
      }
    });
  } finally {
    for (const w of workers) w.postMessage({ stop: true } satisfies ToWorker);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return builder;
}

/** The worker's side: parse the kernels once, then check the modules it is handed. */
async function workerMain(): Promise<void> {
  const { parentPort, workerData } = await import("node:worker_threads");
  const job = workerData[WORKER_FLAG] as CheckJob;
  const port = parentPort!;
  const post = (m: FromWorker) => port.postMessage(m);
  let checker: Checker;
  try {
    // The CLI thread's compiled core when it sent one (a WebAssembly.Module crosses threads as is).
    const module = workerData.module as WebAssembly.Module | undefined;
    await init(module ? { module } : {});
    const cache = new Map<string, KernelInput>();
    const read = new Map(Object.entries(workerData.kernelBytes as Record<string, KernelBytes>));
    const builtAgainst = job.builtAgainst ? (await loadKernels([job.builtAgainst], cache, read))[0] : undefined;
    const kernels = await loadKernels(job.kernels, cache, read);
    checker = new Checker(kernels, { builtAgainst, strict: job.strict });
  } catch (e) {
    post({ failed: errorData(e) });
    return;
  }
  // "KIND name" -> this worker's key; the parent learns each name once.
  const keyIds = new Map<string, number>();
  let queue = Promise.resolve();
  port.on("message", (msg: ToWorker) => {
    if ("stop" in msg) { port.close(); return; }
    queue = queue.then(async () => {
      for (const { index, path } of msg.modules) {
        try {
          const r = await checkFile(checker, path);
          const newKeys: string[] = [];
          const keys = new Uint32Array(r.sizes.keys.length);
          for (let i = 0; i < keys.length; i++) {
            const name = r.sizes.keys[i];
            let id = keyIds.get(name);
            if (id === undefined) { keyIds.set(name, (id = keyIds.size)); newKeys.push(name); }
            keys[i] = id;
          }
          const sizes = Uint32Array.from(r.sizes.sizes);
          port.postMessage({ index, results: JSON.stringify(r.results), newKeys, keys, sizes } satisfies FromWorker, [keys.buffer, sizes.buffer]);
        } catch (e) {
          post({ index, error: errorData(e) });
        }
      }
    });
  });
  post({ ready: true });
}

// Started as a worker thread by checkInWorkers (and only then).
void (async () => {
  try {
    const wt = await import("node:worker_threads");
    if (!wt.isMainThread && wt.workerData && typeof wt.workerData === "object" && WORKER_FLAG in wt.workerData) await workerMain();
  } catch {
    // No worker_threads here: nothing to start.
  }
})();
