// Family "http": the check service's Fetch handler (src/service/handler.ts)
// with hostile requests: mutated raw and multipart bodies, bombs, oversized
// bodies, odd methods and paths, kernel names with traversal (../, %2e%2e,
// absolute paths, NUL) and prototype keys (__proto__, constructor) as query
// keys, form field names and kernel names. Invariants beyond the harness's
// (which also checks Object.prototype after every case): the status is one
// of 200/400/404/405/413/503 with a JSON body, every error carries a code
// other than INTERNAL, a 200 only ever names configured kernels, and a body
// over the limit is always 413. A fifth of the requests go to POST /core
// with BPF objects (the vendored .bpf.o fixtures, mutated or not) in the body
// or in a multipart "object" field; its 200s name configured kernels only.
import { readFileSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { layoutOf, MUTATORS } from "./mutators.mjs";
import { bpfLayoutOf, BPF_MUTATORS, BPF_MUTATOR_NAMES } from "./mutators-bpf.mjs";
import * as W from "./wrappers.mjs";

const CONFIGURED = ["k61-47", "k61-50"];
const HOSTILE_NAMES = [
  "k61-99", "../k61-50", "..%2fk61-50", "%2e%2e%2fk61-50", "%2e%2e", "..", ".", "/etc/passwd", "k61-50\0", "k61-50%00",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", ".k61-50", "a".repeat(129), "C:\\Windows\\win.ini",
  "k61-50/../k61-47", "k61-50\n", "%", "%zz", "k61\u201350", "k61-50 ", "file:///etc/passwd", "k61-50%2F..%2F..%2Fetc%2Fpasswd",
];
const PATHS = ["/check", "/check", "/check", "/check/", "/kernels", "/", "/../check", "/%2e%2e/check", "/check%00", "//check", "/CHECK", "/__proto__", "/kernels/../check", "/x?y", "/core/", "/CORE", "/core%00", "/../core"];
const OBJECTS = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures/core/corpus");
const METHODS = ["POST", "POST", "POST", "POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH"];
const ALLOWED = new Set([200, 400, 404, 405, 413, 503]);
const MAX_BODY = 1 << 20;
const MAX_DECOMPRESSED = 4 << 20;

const enc = new TextEncoder();

function multipart(parts, boundary) {
  const chunks = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ""}`;
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.filename !== undefined ? "Content-Type: application/octet-stream\r\n" : ""}\r\n`));
    chunks.push(typeof p.value === "string" ? enc.encode(p.value) : p.value, enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

export const httpFamily = {
  name: "http",
  setup(ctx) {
    const { service } = ctx;
    if (!service) throw new Error("the http family needs the service module");
    const svc = service.createCheckService({
      kernels: { "k61-50": ctx.seeds.base.bytes, "k61-47": ctx.seeds.other.bytes },
      maxBodyBytes: MAX_BODY, maxDecompressedBytes: MAX_DECOMPRESSED, timeBudgetMs: 5000,
    });
    const mods = ctx.seeds.mods.map((s) => ({ ...s, info: layoutOf(s.bytes) }));
    const bodies = [
      { name: "json-proto", bytes: enc.encode('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}') },
      { name: "gzip-bomb-64MiB", bytes: W.gzip(new Uint8Array(64 << 20)) },
      { name: "zstd-bomb", bytes: W.zstdRleBomb(4096) },
      { name: "over-limit", bytes: new Uint8Array(MAX_BODY + 1) },
      { name: "empty", bytes: new Uint8Array(0) },
    ].concat(ctx.seeds.kos.map((k) => ({ name: k.name, bytes: k.bytes })));
    const objects = readdirSync(OBJECTS).filter((f) => f.endsWith(".o.gz")).sort().map((f) => {
      const bytes = new Uint8Array(gunzipSync(readFileSync(join(OBJECTS, f))));
      return { name: f.replace(/\.gz$/, ""), bytes, layout: bpfLayoutOf(bytes) };
    });
    return { svc, mods, bodies, objects };
  },
  async run(st, rng, cs) {
    const toCore = rng.chance(0.2);
    // The module body (or, for /core, the BPF object).
    let body, bodyDesc;
    if (toCore && rng.chance(0.75)) {
      const o = rng.pick(st.objects);
      body = o.bytes;
      bodyDesc = o.name;
      if (rng.chance(0.4)) {
        const m = rng.pick(BPF_MUTATOR_NAMES);
        body = BPF_MUTATORS[m](body, rng, o.layout);
        bodyDesc += `+${m}`;
      }
      if (rng.chance(0.15)) { body = W.gzip(body); bodyDesc += "+gzip"; }
    } else if (rng.chance(0.6)) {
      const s = rng.pick(st.mods);
      body = s.bytes;
      bodyDesc = s.name;
      if (rng.chance(0.4)) {
        const m = rng.pick(["bitflip", "headerExtreme", "inflateVlen", "corruptId", "corruptStrOff", "makeCycle", "kindChange", "truncateAtBoundary"]);
        body = MUTATORS[m](body, rng, s.info);
        bodyDesc += `+${m}`;
      }
      if (rng.chance(0.15)) { body = W.gzip(body); bodyDesc += "+gzip"; }
    } else {
      const b = rng.pick(st.bodies);
      body = b.bytes;
      bodyDesc = b.name;
    }
    // Kernels and other parameters, in the query and/or the form.
    const kernels = [];
    const nk = rng.pick([0, 1, 1, 1, 2, 2, 3, 17]);
    for (let i = 0; i < nk; i++) kernels.push(rng.chance(0.75) ? rng.pick(CONFIGURED) : rng.pick(HOSTILE_NAMES));
    const builtAgainst = rng.chance(0.6) ? (rng.chance(0.8) ? "k61-50" : rng.pick(HOSTILE_NAMES)) : undefined;
    const useForm = rng.chance(0.35);
    const q = [];
    const raw = rng.chance(0.5); // raw strings in the URL (percent sequences as typed) or encoded
    const qv = (v) => (raw ? v.replace(/[\0\n#&?]/g, (c) => encodeURIComponent(c)) : encodeURIComponent(v.toWellFormed()));
    const formKernels = useForm ? kernels.splice(0, rng.int(kernels.length + 1)) : [];
    for (const k of kernels) q.push(`kernel=${qv(k)}`);
    if (builtAgainst !== undefined && !(useForm && rng.chance(0.5))) q.push(`built-against=${qv(builtAgainst)}`);
    if (rng.chance(0.3)) q.push(`strict=${rng.pick(["1", "true", "0", "yes", ""])}`);
    if (rng.chance(0.3)) q.push(`name=${qv(rng.pick(["loop.ko", "../../etc/passwd", "\u0000\u001b[31mred", "x".repeat(5000), "__proto__", "\ud800"]))}`);
    if (rng.chance(0.3)) q.push(rng.pick(["__proto__[polluted]=1", "constructor[prototype][polluted]=1", "__proto__=1", "kernel[]=k61-50", "%zz=1", "&&&", "=", "a=%", "kernel"]));
    const path = toCore ? (rng.chance(0.85) ? "/core" : rng.pick(PATHS)) : rng.chance(0.7) ? "/check" : rng.pick(PATHS);
    const method = rng.chance(0.8) ? "POST" : rng.pick(METHODS);
    const url = `http://localhost${path}${q.length ? "?" + q.join("&") : ""}`;
    const headers = {};
    if (useForm) {
      const boundary = rng.pick(["----btfkitfuzz", "x", "a".repeat(70), "__proto__"]);
      const parts = [];
      if (rng.chance(0.9)) parts.push({ name: toCore && rng.chance(0.8) ? "object" : "module", filename: rng.pick(["m.ko", "p.bpf.o", "../../x", "", "__proto__", "a\u0001b"]), value: body });
      for (const k of formKernels) parts.push({ name: "kernel", value: k });
      if (builtAgainst !== undefined && !q.some((x) => x.startsWith("built-against="))) parts.push({ name: "built-against", value: builtAgainst });
      if (rng.chance(0.4)) parts.push({ name: rng.pick(["__proto__", "constructor", "prototype", "__proto__[polluted]", "toString"]), value: rng.pick(["1", '{"polluted":1}', "k61-50"]) });
      body = multipart(parts, boundary);
      if (rng.chance(0.2)) body = body.subarray(0, rng.int(body.length)); // truncated multipart
      headers["content-type"] = rng.chance(0.9) ? `multipart/form-data; boundary=${boundary}` : "multipart/form-data";
      bodyDesc = `multipart(${bodyDesc}, ${parts.map((p) => p.name).join(",")})`;
    } else if (rng.chance(0.2)) {
      headers["content-type"] = rng.pick(["application/json", "application/x-www-form-urlencoded", "text/plain; charset=\u0000", "multipart/mixed"]);
    }
    if (rng.chance(0.1)) headers["x-forwarded-for"] = "../../etc";
    cs.describe(`${method} ${url.slice(0, 300)} body=${bodyDesc} (${body.length} bytes)`);
    let request;
    try {
      request = new Request(url, { method, headers, body: method === "GET" ? undefined : body });
    } catch {
      return "request-not-constructible"; // the fetch API refused the request itself
    }
    const res = await cs.tryAsync("handler.fetch", () => st.svc.fetch(request));
    if (!res.ok) return res.code;
    const response = res.value;
    const text = await response.text();
    if (!ALLOWED.has(response.status)) cs.finding(`status ${response.status}: ${text.slice(0, 300)}`);
    let json;
    try { json = JSON.parse(text); } catch { cs.finding(`status ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`); return `status-${response.status}`; }
    if (response.status !== 200) {
      const code = json?.error?.code;
      if (typeof code !== "string" || !code) cs.finding(`status ${response.status} without an error code: ${text.slice(0, 200)}`);
      else if (code === "INTERNAL") cs.finding(`status ${response.status} INTERNAL: ${json.error.message}`);
      if (body.length > MAX_BODY && method !== "GET" && response.status !== 413 && response.status !== 404 && response.status !== 405) cs.finding(`a body of ${body.length} bytes over the limit got ${response.status}`);
      return `${response.status}:${code}`;
    }
    const route = new URL(request.url).pathname;
    if (route === "/core") {
      const named = new URL(request.url).searchParams.getAll("kernel").concat(formKernels);
      const bad = named.filter((k) => !CONFIGURED.includes(k));
      if (bad.length) cs.finding(`/core 200 for a request naming unconfigured kernels ${JSON.stringify(bad)}`);
      if (body.length > MAX_BODY) cs.finding(`/core 200 for a body of ${body.length} bytes, over the limit`);
      for (const r of json.results ?? []) {
        if (!CONFIGURED.includes(r.kernel)) cs.finding(`core report names kernel ${JSON.stringify(r.kernel)}`);
        if (/[^\x20-\x7e]/.test(r.object) || r.object.length > 200) cs.finding(`core report object name not sanitised: ${JSON.stringify(r.object.slice(0, 80))}`);
      }
      return "200:core";
    }
    if (route === "/check") {
      const named = new URL(request.url).searchParams.getAll("kernel").concat(formKernels);
      const bad = named.filter((k) => !CONFIGURED.includes(k));
      if (bad.length) cs.finding(`200 for a request naming unconfigured kernels ${JSON.stringify(bad)}`);
      if (body.length > MAX_BODY) cs.finding(`200 for a body of ${body.length} bytes, over the limit`);
      for (const r of json.results ?? []) if (!CONFIGURED.includes(r.kernel)) cs.finding(`report names kernel ${JSON.stringify(r.kernel)}`);
      for (const r of json.results ?? []) if (/[^\x20-\x7e]/.test(r.module) || r.module.length > 200) cs.finding(`report module name not sanitised: ${JSON.stringify(r.module.slice(0, 80))}`);
    }
    return "200";
  },
};
