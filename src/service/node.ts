// Node's http on top of the Fetch handler: http.createServer(toNodeListener(service)).
// The request body is streamed into the handler (which counts and caps it);
// when the handler stops reading early (an oversized body), the answer is
// still sent and the connection is closed after it.

import type { IncomingMessage, ServerResponse } from "node:http";

export interface FetchHandler { fetch(request: Request): Promise<Response> }

function toRequest(req: IncomingMessage): { request: Request; stopped: () => boolean } {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) headers.append(k, x);
  }
  let stopped = false;
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const it = req[Symbol.asyncIterator]();
  const body = hasBody
    ? new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const { done, value } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      cancel() { stopped = true; req.pause(); },
    })
    : undefined;
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, body, duplex: "half" };
  return { request: new Request(url, init), stopped: () => stopped };
}

export function toNodeListener(service: FetchHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const { request, stopped } = toRequest(req);
      let response: Response;
      try {
        response = await service.fetch(request);
      } catch (e) {
        response = new Response(JSON.stringify({ error: { code: "INTERNAL", message: String((e as Error)?.message ?? e) } }), { status: 500, headers: { "content-type": "application/json" } });
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((v, k) => { headers[k] = v; });
      // A body left unread is not drained: the connection goes after the answer.
      if (stopped() || !req.complete && req.method !== "GET" && req.method !== "HEAD") headers.connection = "close";
      res.writeHead(response.status, headers);
      if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          res.write(value);
        }
      }
      res.end(() => { if (!req.complete) req.destroy(); });
    })().catch(() => { res.destroy(); });
  };
}
