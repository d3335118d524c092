// The check service bundle (dist/service.js) under Deno.serve with the fixture
// kernels and the Workers deployment's limits: test/workerd.test.ts sends it
// the same requests as workerd and Node and compares the answers. Prints
// {"port": N} once listening; runs until killed.
// Run: deno run -A --no-check test/deno/serve-workers-limits.ts
import { createCheckService } from "../../dist/service.js";
import { WORKER_LIMITS } from "../../deploy/workers/limits.ts";

const fixtures = decodeURIComponent(new URL("../fixtures/", import.meta.url).pathname);
const service = createCheckService({
  kernels: { "k61-50": await Deno.readFile(`${fixtures}k61-50/vmlinux.btf.gz`), "k61-47": await Deno.readFile(`${fixtures}k61-47/vmlinux.btf.gz`) },
  ...WORKER_LIMITS,
});
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(JSON.stringify({ port: a.port })) }, service.fetch);
