// The one path from the embedded wasm bytes to a running core, the same in
// Node, Deno, browsers and workers: base64 -> WebAssembly.compile ->
// instantiate. Bytes cross into wasm memory once (copyIn) and results come
// back once (takeResult). Every failure in the core becomes a BtfError here.

import { WASM_BASE64 } from "./generated/wasm.js";
import { BtfError } from "./errors.js";
import { ERR, ERROR_CODE_NAMES } from "./generated/codes.js";
import type { CoreExports } from "./generated/core-exports.js";

/** The core's exports, typed from its build (asc --bindings; see scripts/embed-wasm.mjs). */
export type { CoreExports };

let core: CoreExports | null = null;
let compiled: WebAssembly.Module | null = null;
let initPromise: Promise<void> | null = null;
/** Bumped when the instance is replaced after a trap: older handles are void. */
let generation = 0;
let coldStartMs = 0;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export interface InitOptions {
  /** A precompiled module, for environments whose CSP forbids compiling from bytes. */
  module?: WebAssembly.Module;
}

/** Compile and instantiate the core once. Safe to call repeatedly. */
export function init(opts: InitOptions = {}): Promise<void> {
  if (core) return Promise.resolve();
  if (!initPromise) {
    initPromise = (async () => {
      const t0 = now();
      // The Workers bundle (dist/workers/worker.js) is built with an empty
      // WASM_BASE64: there the core only ever arrives as a module binding.
      if (!opts.module && WASM_BASE64 === "") throw new BtfError("USAGE", "this build carries no embedded wasm: call init({ module }) with the compiled core");
      compiled = opts.module ?? (await WebAssembly.compile(decodeBase64(WASM_BASE64) as BufferSource));
      await instantiate();
      coldStartMs = now() - t0;
    })();
    initPromise.catch(() => { initPromise = null; });
  }
  return initPromise;
}

async function instantiate(): Promise<void> {
  const inst = await WebAssembly.instantiate(compiled!, {
    env: {
      abort() { throw new Error("btfkit core aborted"); },
      seed: () => 0,
    },
  });
  core = inst.exports as unknown as CoreExports;
}

/** Synchronous re-instantiation after a trap (the module is already compiled). */
function reinstantiate(): void {
  const inst = new WebAssembly.Instance(compiled!, { env: { abort() { throw new Error("btfkit core aborted"); }, seed: () => 0 } });
  core = inst.exports as unknown as CoreExports;
  generation++;
}

/** Current size of the core's linear memory (it only grows: a high-water mark). */
export function wasmMemoryBytes(): number { return core ? core.memory.buffer.byteLength : 0; }

/** @internal The compiled core, once init() is done: worker threads instantiate it without compiling again. */
export function compiledModule(): WebAssembly.Module | undefined { return compiled ?? undefined; }

/** Milliseconds spent compiling and instantiating in init(). */
export function coldStart(): number { return coldStartMs; }
export function currentGeneration(): number { return generation; }

/** The core, or a clear error when init() was not awaited. */
export function wasm(): CoreExports {
  if (!core) throw new BtfError("USAGE", "btfkit is not initialised: await init() first");
  return core;
}

/**
 * Run a core call, turning a trap (a bug in the core, or memory exhaustion)
 * into a BtfError. The instance is replaced, since its state is unknown.
 */
export function guard<T>(fn: (c: CoreExports) => T): T {
  const c = wasm();
  try {
    return fn(c);
  } catch (e) {
    if (e instanceof BtfError) throw e;
    let msg = e instanceof Error ? e.message : String(e);
    try {
      if (c.errCode() === ERR.INTERNAL) msg = readMessage(c);
    } catch { /* the instance may be unusable */ }
    reinstantiate();
    const code = /memory|allocation/i.test(msg) ? "TOO_LARGE" : "INTERNAL";
    throw new BtfError(code, `core trapped: ${msg}`);
  }
}

export function heapU8(c: CoreExports = wasm()): Uint8Array {
  return new Uint8Array(c.memory.buffer);
}

/** Copy bytes into fresh wasm memory; returns the pointer (caller frees or hands over). */
export function copyIn(bytes: Uint8Array, c: CoreExports = wasm()): number {
  const ptr = c.memAlloc(bytes.length);
  new Uint8Array(c.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

/** Copy a NUL-terminated string into wasm memory (UTF-8). */
export function copyInCString(s: string, c: CoreExports = wasm()): number {
  const enc = new TextEncoder().encode(s);
  const ptr = c.memAlloc(enc.length + 1);
  const view = new Uint8Array(c.memory.buffer, ptr, enc.length + 1);
  view.set(enc);
  view[enc.length] = 0;
  return ptr;
}

/** An output over the core's result cap (~512 MiB) is refused, and freed. */
function checkResultSize(c: CoreExports): void {
  if (!c.resultOverflowed()) return;
  c.freeResult();
  throw new BtfError("TOO_LARGE", "the output would exceed the 512 MiB result limit");
}

/** Copy the result sink out and free it. */
export function takeResult(c: CoreExports = wasm()): Uint8Array {
  checkResultSize(c);
  const ptr = c.resultPtr();
  const len = c.resultLen();
  const out = new Uint8Array(len);
  if (len > 0) out.set(new Uint8Array(c.memory.buffer, ptr, len));
  c.freeResult();
  return out;
}

const utf8 = new TextDecoder("utf-8");

export function takeResultText(c: CoreExports = wasm()): string {
  checkResultSize(c);
  const ptr = c.resultPtr();
  const len = c.resultLen();
  const s = utf8.decode(new Uint8Array(c.memory.buffer, ptr, len));
  c.freeResult();
  return s;
}

/** Decode a NUL-terminated string at `ptr` in wasm memory. */
export function cstring(ptr: number, c: CoreExports = wasm()): string {
  if (ptr === 0) return "";
  const mem = new Uint8Array(c.memory.buffer);
  let end = ptr;
  while (mem[end] !== 0) end++;
  return utf8.decode(mem.subarray(ptr, end));
}

function readMessage(c: CoreExports): string {
  c.errMessage();
  return takeResultText(c);
}

/**
 * The core's last error as "CODE: message", without building an Error (and
 * its stack): for verdicts computed per module x kernel pair.
 */
export function lastErrorLine(c: CoreExports = wasm()): string {
  const code = c.errCode();
  const msg = code === ERR.OK ? "unknown failure in the core" : readMessage(c);
  return `${ERROR_CODE_NAMES[code] ?? `E${code}`}: ${msg}`;
}

/** The core's last error as a BtfError. */
export function lastError(c: CoreExports = wasm(), file?: string): BtfError {
  const code = c.errCode();
  const offset = c.errOffset();
  const typeId = c.errTypeId();
  const msg = code === ERR.OK ? "unknown failure in the core" : readMessage(c);
  return BtfError.fromCore(code, msg, offset >= 0 ? offset : undefined, typeId || undefined, file);
}
