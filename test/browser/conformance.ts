// Chromium side of the cross-runtime conformance: the bundle dist/index.js,
// imported as an ES module, runs test/conformance/run.ts once on the page's
// main thread and once in a module Web Worker. The driver
// (test/conformance.test.ts) reads globalThis.__conformance.

import * as api from "../../dist/index.js";
import { runConformance } from "../conformance/run.ts";
import type { ConformanceResult } from "../conformance/run.ts";

type Outcome = { page?: ConformanceResult; worker?: ConformanceResult; error?: string };
const g = globalThis as unknown as { __conformance?: Outcome };

async function read(rel: string): Promise<Uint8Array> {
  const r = await fetch(`/test/fixtures/${rel}`);
  if (!r.ok) throw new Error(`fetch ${rel}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function inWorker(): Promise<ConformanceResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./conformance-worker.ts", import.meta.url), { type: "module" });
    w.onmessage = (ev) => {
      w.terminate();
      if (ev.data && ev.data.error) reject(new Error(`worker: ${ev.data.error}`));
      else resolve(ev.data as ConformanceResult);
    };
    w.onerror = (ev) => { w.terminate(); reject(new Error(`worker failed: ${ev.message}`)); };
  });
}

async function main(): Promise<void> {
  const out = document.getElementById("out")!;
  try {
    const page = await runConformance(api as never, read, "chromium page");
    const worker = await inWorker();
    g.__conformance = { page, worker };
    out.textContent = `page ${Object.keys(page.hashes).length} hashes in ${page.ms} ms; worker ${Object.keys(worker.hashes).length} in ${worker.ms} ms`;
  } catch (e) {
    g.__conformance = { error: String((e as Error).stack ?? e) };
    out.textContent = String(e);
  }
}

void main();
