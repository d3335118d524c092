// diff OLD NEW [--base B | --old-base B --new-base B]: `btfkit diff` in
// process on two parsed BTFs, everything the verb computes: every keyed
// type's own shape on both sides, the comparison per key, the details of
// changed types, decoded into the API's result (issue 15: under 60 ms for two
// vmlinux BTFs of 100k+ types). Parsing is setup, not timed; nothing carries
// over between iterations (each diff builds and frees its own shape table).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readRawBtf } from "../lib.mjs";

export default {
  name: "diff",
  usage: "diff OLD NEW [--base B | --old-base B --new-base B]",
  options: { base: "string", "old-base": "string", "new-base": "string" },
  positionals: [2, 2],
  order: 70,
  suite(root) {
    const k = (n) => join(root.dir, n, "vmlinux.btf.gz");
    return existsSync(k("k61-47")) && existsSync(k("k61-50")) ? [[k("k61-47"), k("k61-50")]] : [];
  },
  async setup(lib, [oldPath, newPath], opts) {
    const parse = async (p, base) => lib.Btf.parse((await readRawBtf(lib, p)).bytes, { base });
    const oldBase = opts["old-base"] ?? opts.base, newBase = opts["new-base"] ?? opts.base;
    const bases = [];
    const ob = oldBase ? await parse(oldBase) : undefined;
    if (ob) bases.push(ob);
    const nb = newBase ? (newBase === oldBase ? ob : await parse(newBase)) : undefined;
    if (nb && nb !== ob) bases.push(nb);
    const a = await parse(oldPath, ob), b = await parse(newPath, nb);
    const bytes = (x) => x.header.typeLen + x.header.strLen;
    const inputBytes = bytes(a) + bytes(b);
    return { lib, a, b, bases, label: `${oldPath} -> ${newPath}`, inputBytes, residentInputBytes: inputBytes + bases.reduce((n, x) => n + bytes(x), 0) };
  },
  run: (s) => s.lib.diff(s.a, s.b),
  release() {},
  describe(s) {
    const r = s.lib.diff(s.a, s.b);
    return { types: [s.a.typeCount - s.a.startId, s.b.typeCount - s.b.startId], added: r.added.length, removed: r.removed.length, changed: r.changed.length, unchanged: r.keys.unchanged };
  },
  teardown(s) { s.a.free(); s.b.free(); for (const b of s.bases) b.free(); },
};
