// The conformance run inside a module Web Worker (started by conformance.ts).
import * as api from "../../dist/index.js";
import { runConformance } from "../conformance/run.ts";

async function read(rel: string): Promise<Uint8Array> {
  const r = await fetch(`/test/fixtures/${rel}`);
  if (!r.ok) throw new Error(`fetch ${rel}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

runConformance(api as never, read, "chromium worker").then(
  (res) => postMessage(res),
  (e) => postMessage({ error: String((e as Error).stack ?? e) }),
);
