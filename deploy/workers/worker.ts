// btfkit's check service as a Cloudflare Workers module worker (workerd).
// Everything the isolate needs arrives as a module, never as a file or as
// bytes to compile: the core as a compiled WebAssembly.Module (a CompiledWasm
// module, so nothing compiles code at run time), the kernels as data modules
// (ArrayBuffers of the gzipped BTF, decompressed and parsed by the core on
// first use, once per isolate). Built by `npm run build` into
// dist/workers/ (worker.js, btfkit.wasm, kernels/*.btf.gz); served by
// `workerd serve deploy/workers/workerd.capnp` or deployed with wrangler.
//
// Routing is the shared handler's: every path (/check, /kernels, /, and any
// route the handler gains later, such as /core) goes to the same
// createCheckService().fetch as under Node and Deno, so answers are the same.

import { init } from "../../src/index.js";
import { createCheckService, type CheckService } from "../../src/service/handler.js";
import { WORKER_LIMITS } from "./limits.js";
import coreModule from "./btfkit.wasm";
import k6150 from "./kernels/k61-50.btf.gz";
import k6147 from "./kernels/k61-47.btf.gz";

/** The kernels requests may name (KERNEL_NAME rule; any other name is a 404). */
const KERNELS: Record<string, ArrayBuffer> = { "k61-50": k6150, "k61-47": k6147 };

// One service per isolate: its KernelStore keeps each parsed kernel for the
// isolate's lifetime, so only the first request naming a kernel parses it.
let service: CheckService | null = null;

export default {
  async fetch(request: Request): Promise<Response> {
    await init({ module: coreModule });
    service ??= createCheckService({ kernels: KERNELS, ...WORKER_LIMITS });
    return service.fetch(request);
  },
};
