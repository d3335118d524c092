// The one bundle under Deno 2, in the three ways a Deno user meets it:
//  - as a package: a consumer project whose node_modules/btfkit is this
//    package, imported both as "npm:btfkit" and as the bare "btfkit";
//  - with a caller-compiled WebAssembly.Module (init({ module }), the path
//    for runtimes that forbid compiling from bytes);
//  - the CLI, `deno run -A dist/cli.js`, with its exit codes.
// Run: npx deno test -A --no-check test/deno/   (after npm run build)

const root = new URL("../../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const fixtures = `${rootPath}test/fixtures`;

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function deno(args: string[], cwd = rootPath): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args, cwd, stdout: "piped", stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

const CONSUMER = `
import * as bare from "btfkit";
import * as viaNpm from "npm:btfkit";
const fixtures = Deno.args[0];
if (bare.Btf !== viaNpm.Btf) throw new Error("npm:btfkit and btfkit resolved to different modules");
await viaNpm.init();
const k = await viaNpm.loadBtf(await Deno.readFile(fixtures + "/k61-50/vmlinux.btf.gz"));
const m = await bare.loadBtf(await Deno.readFile(fixtures + "/k61-50/modules/loop.btf.gz"), { base: k });
console.log(JSON.stringify({ types: k.typeCount, skb: k.find("sk_buff", "STRUCT"), loopTypes: m.typeCount - m.startId, cold: viaNpm.coldStart() }));
`;

Deno.test("as an installed package: npm:btfkit and bare btfkit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "btfkit-consumer-" });
  try {
    await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { btfkit: "*" } }));
    await Deno.mkdir(`${dir}/node_modules`);
    await Deno.symlink(rootPath.replace(/\/$/, ""), `${dir}/node_modules/btfkit`);
    await Deno.writeTextFile(`${dir}/main.ts`, CONSUMER);
    const r = await deno(["run", "-A", "--no-check", "main.ts", fixtures], dir);
    assert(r.code === 0, `consumer failed (${r.code}): ${r.stderr}`);
    const res = JSON.parse(new TextDecoder().decode(r.stdout));
    assert(res.types === 100643, `vmlinux type count ${res.types}`);
    assert(res.skb.length === 1, `struct sk_buff ids ${res.skb}`);
    assert(res.loopTypes > 0, "loop has no own types");
    console.log(`package import: ok, cold start ${res.cold.toFixed(1)} ms`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("init({ module }) with a caller-compiled WebAssembly.Module", async () => {
  const wasmPath = `${rootPath}build/btfkit.wasm`;
  const bytes = await Deno.readFile(wasmPath).catch(() => null);
  if (!bytes) {
    console.log(`SKIPPED: ${wasmPath} is absent (npm run build makes it)`);
    return;
  }
  // A fresh process, so init() has not already run from the embedded bytes.
  const dist = new URL("dist/index.js", root).href;
  const src = `import { init, Btf } from ${JSON.stringify(dist)};
    const mod = await WebAssembly.compile(await Deno.readFile(${JSON.stringify(wasmPath)}));
    await init({ module: mod });
    const b = Btf.parse(new Uint8Array([0x9f,0xeb,1,0, 24,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,0, 1,0,0,0, 0]));
    console.log(b.typeCount);`;
  const r = await deno(["eval", src]);
  assert(r.code === 0, `eval failed: ${r.stderr}`);
  assert(new TextDecoder().decode(r.stdout).trim() === "1", "empty BTF should have typeCount 1");
});

Deno.test("CLI: deno run -A dist/cli.js, output and exit codes", async () => {
  const info = await deno(["run", "-A", "dist/cli.js", "info", `${fixtures}/k61-50/modules/loop.btf.gz`, "--base", `${fixtures}/k61-50/vmlinux.btf.gz`, "--json"]);
  assert(info.code === 0, `info exit ${info.code}: ${info.stderr}`);
  const j = JSON.parse(new TextDecoder().decode(info.stdout));
  assert(j.split === true && j.start_id === 100643, `info says ${JSON.stringify(j).slice(0, 200)}`);

  const dump = await deno(["run", "-A", "dist/cli.js", "dump", `${fixtures}/k61-50/modules/loop.btf.gz`, "--base", `${fixtures}/k61-50/vmlinux.btf.gz`]);
  assert(dump.code === 0, `dump exit ${dump.code}: ${dump.stderr}`);
  const golden = new Uint8Array(await new Response(
    (await Deno.open(`${fixtures}/golden/raw/k61-50/loop.txt.gz`)).readable.pipeThrough(new DecompressionStream("gzip")),
  ).arrayBuffer());
  assert(dump.stdout.length === golden.length && dump.stdout.every((b, i) => b === golden[i]), "dump differs from bpftool's raw text");

  const bad = await Deno.makeTempFile();
  await Deno.writeTextFile(bad, "not btf at all");
  const r2 = await deno(["run", "-A", "dist/cli.js", "info", bad]);
  await Deno.remove(bad);
  assert(r2.code === 2 && /BAD_MAGIC/.test(r2.stderr), `bad input: exit ${r2.code}, ${r2.stderr}`);
  const r3 = await deno(["run", "-A", "dist/cli.js", "no-such-verb"]);
  assert(r3.code === 2, `usage error exit ${r3.code}`);
  console.log("cli under deno: info, dump (= bpftool golden), exit 2 on bad input and usage");
});
