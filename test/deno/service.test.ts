// The check service bundle (dist/service.js, on dist/index.js) under Deno:
// Deno.serve on 127.0.0.1 with the Fetch handler, and the default export
// configured from BTFKIT_KERNELS_DIR as Deno Deploy / `deno serve` would use it.
// Run: npx deno test -A --no-check test/deno/   (after npm run build)

import service, { createCheckService } from "../../dist/service.js";

const root = new URL("../../", import.meta.url);
const fixtures = decodeURIComponent(new URL("test/fixtures/", root).pathname);
const read = (rel: string) => Deno.readFile(`${fixtures}${rel}`);

function assertEquals(a: unknown, b: unknown, what: string): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`${what}: ${x} != ${y}`);
}

async function withServer(handler: (r: Request) => Promise<Response>, fn: (url: string) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  let port = 0;
  const ready = new Promise<void>((ok) => {
    Deno.serve({ hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: (a) => { port = a.port; ok(); } }, handler);
  });
  await ready;
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    ac.abort();
  }
}

Deno.test("service bundle under Deno.serve: report, malformed, oversized, names", async () => {
  const svc = createCheckService({
    kernels: { "k61-50": await read("k61-50/vmlinux.btf.gz"), "k61-47": () => read("k61-47/vmlinux.btf.gz") },
    maxBodyBytes: 1 << 20,
  });
  await withServer(svc.fetch, async (url) => {
    let r = await fetch(`${url}/check?kernel=k61-50&kernel=k61-47&built-against=k61-50&name=zl10353`, { method: "POST", body: await read("k61-50/modules/zl10353.btf.gz") });
    assertEquals(r.status, 200, "status");
    const j = await r.json();
    assertEquals(j.results.map((x: { kernel: string; ok: boolean }) => [x.kernel, x.ok]), [["k61-50", true], ["k61-47", false]], "verdicts");
    assertEquals(r.headers.get("x-btfkit-compatible"), "no", "header");

    const form = new FormData();
    form.append("module", new Blob([await read("k61-50/modules/loop.btf.gz")]), "loop.btf.gz");
    form.append("kernel", "k61-50");
    form.append("built-against", "k61-50");
    r = await fetch(`${url}/check`, { method: "POST", body: form });
    const m = (await r.json()).results[0];
    assertEquals([r.status, m.module, m.kernel, m.ok, m.problems], [200, "loop.btf.gz", "k61-50", true, []], "multipart");

    r = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: "junk junk junk" });
    assertEquals([r.status, (await r.json()).error.code], [400, "BAD_MAGIC"], "malformed");
    r = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: new Uint8Array(2 << 20) });
    assertEquals([r.status, (await r.json()).error.code], [413, "TOO_LARGE"], "oversized");
    const stream = new ReadableStream<Uint8Array>({
      i: 0,
      pull(ctrl) { if ((this as unknown as { i: number }).i++ < 40) ctrl.enqueue(new Uint8Array(64 << 10)); else ctrl.close(); },
    } as UnderlyingDefaultSource<Uint8Array> & { i: number });
    r = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: stream });
    assertEquals([r.status, (await r.json()).error.code], [413, "TOO_LARGE"], "oversized, streamed");
    r = await fetch(`${url}/check?kernel=nope`, { method: "POST", body: "x" });
    assertEquals([r.status, (await r.json()).error.code], [404, "UNKNOWN_KERNEL"], "unknown kernel");
    r = await fetch(`${url}/check?kernel=..%2Fk61-50`, { method: "POST", body: "x" });
    assertEquals([r.status, (await r.json()).error.code], [400, "BAD_KERNEL_NAME"], "traversal");
  });
  console.log("deno service: report, multipart, malformed, oversized (declared and streamed), unknown kernel, traversal");
});

Deno.test("default export configured from BTFKIT_KERNELS_DIR", async () => {
  const dir = await Deno.makeTempDir({ prefix: "btfkit-kernels-" });
  try {
    await Deno.copyFile(`${fixtures}k61-47/vmlinux.btf.gz`, `${dir}/k61-47.btf.gz`);
    await Deno.writeTextFile(`${dir}/README`, "not a kernel");
    Deno.env.set("BTFKIT_KERNELS_DIR", dir);
    await withServer(service.fetch, async (url) => {
      const r = await fetch(`${url}/kernels`);
      assertEquals(await r.json(), { kernels: ["k61-47"] }, "kernels from dir");
      const c = await fetch(`${url}/check?kernel=k61-47&built-against=k61-47`, { method: "POST", body: await read("k61-47/modules/tcp_bbr.btf.gz") });
      assertEquals((await c.json()).results[0].ok, true, "tcp_bbr on its kernel");
      const t = await fetch(`${url}/check?kernel=README`, { method: "POST", body: "x" });
      assertEquals(t.status, 404, "a file that is not a kernel cannot be named");
    });
  } finally {
    Deno.env.delete("BTFKIT_KERNELS_DIR");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /core under Deno.serve: libbpf's answer, modules from a /sys/kernel/btf-style folder", async () => {
  const { kernelsFromDir } = await import("../../dist/service.js");
  const { CORE_TSV_HEADER, coreTsvLine } = await import("../../dist/index.js");
  const gunzip = async (b: Uint8Array) => new Uint8Array(await new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  const dir = await Deno.makeTempDir({ prefix: "btfkit-core-" });
  try {
    await Deno.mkdir(`${dir}/k1`);
    await Deno.writeFile(`${dir}/k1/vmlinux`, await gunzip(await read("core/kernels/k1.btf.gz")));
    for (const m of ["mod_a", "mod_b"]) await Deno.writeFile(`${dir}/k1/${m}`, await gunzip(await read(`core/kernels/${m}.btf.gz`)));
    await Deno.copyFile(`${fixtures}core/kernels/k2.btf.gz`, `${dir}/k2.btf.gz`);
    const svc = createCheckService({ kernels: await kernelsFromDir(dir), maxBodyBytes: 1 << 20 });
    await withServer(svc.fetch, async (url) => {
      let checked = 0;
      for (const [k, want] of [["k1", "k1+mod_a+mod_b"], ["k2", "k2"]]) {
        const r = await fetch(`${url}/core?kernel=${k}&name=prog.o`, { method: "POST", body: await read("core/objs/prog.o.gz") });
        assertEquals(r.status, 200, `status on ${k}`);
        const j = await r.json();
        const tsv = [CORE_TSV_HEADER, ...j.results[0].records.map(coreTsvLine)].join("\n") + "\n";
        assertEquals(tsv, new TextDecoder().decode(await read(`core/expected/${want}/prog.o.tsv`)), `prog.o on ${want}`);
        checked += j.results[0].records.length;
      }
      const bad = await fetch(`${url}/core?kernel=k1`, { method: "POST", body: await read("core/kernels/k2.btf.gz") });
      assertEquals([bad.status, (await bad.json()).error.code], [400, "BAD_ELF"], "raw BTF is not an object");
      const unknown = await fetch(`${url}/core?kernel=k9`, { method: "POST", body: await read("core/objs/prog.o.gz") });
      assertEquals(unknown.status, 404, "unknown kernel");
      console.log(`deno /core: ${checked} records equal libbpf's (k1 with its modules, k2), bad object 400, unknown kernel 404`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
