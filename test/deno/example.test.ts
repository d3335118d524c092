// examples/ci-check.ts as a CI job would run it: exit 0, 1 and 2.
// Run: npx deno test -A --no-check test/deno/   (after npm run build)

const root = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const F = `${root}test/fixtures`;

async function ciCheck(args: string[]): Promise<{ code: number; report: string; log: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--no-check", `${root}examples/ci-check.ts`, ...args],
    stdout: "piped", stderr: "piped", env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, report: dec.decode(out.stdout), log: dec.decode(out.stderr) };
}

Deno.test("ci-check: compatible 0, incompatible 1, bad input 2", async () => {
  const ok = await ciCheck([`${F}/k61-50/modules/loop.btf.gz`, `${F}/k61-50/vmlinux.btf.gz`, "--built-against", `${F}/k61-50/vmlinux.btf.gz`]);
  if (ok.code !== 0) throw new Error(`loop on k61-50: exit ${ok.code}: ${ok.log}`);
  const rep = JSON.parse(ok.report);
  if (rep.results.length !== 1 || rep.results[0].ok !== true || rep.results[0].kernel !== "k61-50") throw new Error(ok.report);

  const bad = await ciCheck([`${F}/k61-50/modules/zl10353.btf.gz`, `${F}/k61-50/vmlinux.btf.gz`, `${F}/k61-47/vmlinux.btf.gz`, "--built-against", `${F}/k61-50/vmlinux.btf.gz`]);
  if (bad.code !== 1) throw new Error(`zl10353 on k61-47: exit ${bad.code}: ${bad.log}`);
  if (!/size struct device at struct media_devnode\.dev -> struct device/.test(bad.log)) throw new Error(`zl10353 reason: ${bad.log}`);
  const r2 = JSON.parse(bad.report);
  if (r2.results.map((r: { ok: boolean }) => r.ok).join() !== "true,false") throw new Error(bad.report);

  const junk = await Deno.makeTempFile();
  await Deno.writeTextFile(junk, "junk");
  const j = await ciCheck([junk, `${F}/k61-50/vmlinux.btf.gz`, "--built-against", `${F}/k61-50/vmlinux.btf.gz`]);
  await Deno.remove(junk);
  if (j.code !== 2 || !/BAD_MAGIC/.test(j.log)) throw new Error(`junk: exit ${j.code}: ${j.log}`);
  const usage = await ciCheck([]);
  if (usage.code !== 2) throw new Error(`usage: exit ${usage.code}`);
});
