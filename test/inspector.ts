// A minimal DevTools-protocol client over a WebSocket on node:net (Node 20
// has no WebSocket client without a flag), enough to ask a workerd isolate
// through `workerd serve --inspector-addr` for its heap (Runtime.getHeapUsage;
// workerd does not answer HeapProfiler.collectGarbage, so calls time out
// rather than wait forever). Text frames only, client frames masked (RFC 6455).
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

export class Inspector {
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { ok: (v: any) => void; fail: (e: Error) => void }>();

  private constructor(private readonly sock: Socket) {
    sock.on("data", (d) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    sock.on("error", (e) => { for (const p of this.pending.values()) p.fail(e); this.pending.clear(); });
  }

  /** Connect to ws://host:port/path (the webSocketDebuggerUrl of /json/list). */
  static open(wsUrl: string): Promise<Inspector> {
    const u = new URL(wsUrl);
    return new Promise((ok, fail) => {
      const sock = connect(Number(u.port), u.hostname);
      sock.once("error", fail);
      sock.once("connect", () => {
        sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
        let head = Buffer.alloc(0);
        const onHead = (d: Buffer) => {
          head = Buffer.concat([head, d]);
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) return;
          sock.off("data", onHead);
          sock.off("error", fail);
          if (!/^HTTP\/1\.1 101/.test(head.toString("latin1"))) return fail(new Error(`inspector refused the upgrade: ${head.toString("latin1").split("\r\n")[0]}`));
          const ins = new Inspector(sock);
          const rest = head.subarray(end + 4);
          if (rest.length) { ins.buf = Buffer.from(rest); ins.drain(); }
          ok(ins);
        };
        sock.on("data", onHead);
      });
    });
  }

  /** One protocol call; resolves with its result. */
  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<any> {
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params }));
    const len = payload.length;
    const header = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
    const mask = randomBytes(4);
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => { this.pending.delete(id); fail(new Error(`inspector: no answer to ${method} in ${timeoutMs} ms`)); }, timeoutMs);
      this.pending.set(id, { ok: (v) => { clearTimeout(timer); ok(v); }, fail: (e) => { clearTimeout(timer); fail(e); } });
      this.sock.write(Buffer.concat([header, mask, body]));
    });
  }

  close(): void { this.sock.destroy(); }

  /** Complete server frames (unmasked, unfragmented text) -> replies to calls; events are ignored. */
  private drain(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1] & 0x7f;
      let at = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); at = 10; }
      if (this.buf.length < at + len) return;
      const opcode = this.buf[0] & 0x0f;
      const data = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (opcode !== 1) continue;
      const msg = JSON.parse(data.toString("utf8"));
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.error) p.fail(new Error(`${msg.error.message ?? "inspector error"}`));
      else p.ok(msg.result);
    }
  }
}
