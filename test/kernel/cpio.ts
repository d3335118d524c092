// A writer for the initramfs of the real-kernel test: the cpio "newc"
// format the kernel unpacks (Documentation/driver-api/early-userspace/
// buffer-format.rst), uncompressed. There is no cpio binary on the test
// machines, and it would need root to create /dev/console anyway; here a
// device node is just a header.

export type CpioEntry =
  | { path: string; type: "dir"; mode?: number }
  | { path: string; type: "file"; data: Uint8Array; mode?: number }
  | { path: string; type: "symlink"; target: string }
  | { path: string; type: "chardev"; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** The archive: each entry a 110-byte ASCII header, the NUL-terminated name and the data, both padded to 4. */
export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => { parts.push(b); total += b.length; };
  const pad = () => { const n = (4 - (total % 4)) % 4; if (n) push(new Uint8Array(n)); };
  const all = [...entries, { path: "TRAILER!!!", type: "file" as const, data: new Uint8Array(0), mode: 0 }];
  let ino = 1;
  for (const e of all) {
    let mode: number, data: Uint8Array = new Uint8Array(0), rmaj = 0, rmin = 0;
    if (e.type === "dir") mode = S_IFDIR | (e.mode ?? 0o755);
    else if (e.type === "file") { mode = e.path === "TRAILER!!!" ? 0 : S_IFREG | (e.mode ?? 0o644); data = e.data; }
    else if (e.type === "symlink") { mode = S_IFLNK | 0o777; data = enc.encode(e.target); }
    else { mode = S_IFCHR | (e.mode ?? 0o600); rmaj = e.major; rmin = e.minor; }
    const name = enc.encode(e.path.replace(/^\/+/, "") + "\0");
    const isTrailer = e.path === "TRAILER!!!";
    const fields = [
      isTrailer ? 0 : ino++, mode, 0, 0, e.type === "dir" ? 2 : 1, 0, data.length,
      0, 0, rmaj, rmin, name.length, 0,
    ];
    push(enc.encode("070701" + fields.map(hex8).join("")));
    push(name);
    pad();
    if (data.length) { push(data); pad(); }
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
