// Distilled modules as ELF: every .ko distilled by btfkit is a sound ELF
// (readelf accepts it), reads back as split on its .BTF.base, relocates onto
// its own kernel to libbpf's golden bytes, and its .BTF_ids still name the
// same types.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { init, Btf, loadBtfSync, relocate, readElf, distillKo as apiDistillKo, BtfError } from "../src/index.js";
import { fixture, fixturePath, cli, equalBytes, HAS_CORPUS, CORPUS, GOLDEN, FIXTURES } from "./helpers.js";

beforeAll(async () => { await init(); });
const hasReadelf = spawnSync("readelf", ["--version"]).status === 0;

/** Names of the types the .BTF_ids ids point at, read through the __BTF_ID__ symbols. */
function btfIdsTargets(ko: Uint8Array, btf: Btf): string[] {
  const elf = readElf(ko);
  const ids = elf.sections.find((s) => s.name === ".BTF_ids");
  const symtab = elf.sections.find((s) => s.name === ".symtab");
  const strtab = elf.sections.find((s) => s.name === ".strtab");
  if (!ids || !symtab || !strtab) return [];
  const idx = elf.sections.indexOf(ids);
  const dv = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  const out: string[] = [];
  for (let o = symtab.offset; o + 24 <= symtab.offset + symtab.size; o += 24) {
    const nameOff = dv.getUint32(o, true), shndx = dv.getUint16(o + 6, true), value = Number(dv.getBigUint64(o + 8, true));
    if (shndx !== idx) continue;
    let e = strtab.offset + nameOff; while (ko[e]) e++;
    const name = new TextDecoder().decode(ko.subarray(strtab.offset + nameOff, e));
    if (!name.startsWith("__BTF_ID__") || /__BTF_ID__set8?__/.test(name)) continue;
    const id = dv.getUint32(ids.offset + value, true);
    if (id === 0) continue;
    const t = btf.type(id);
    out.push(`${name.replace(/__\d+$/, "")} -> ${t.kindName} ${t.name}`);
  }
  return out.sort();
}

function distillKo(inPath: string, vmlinux: string, dir: string, m: string): { out: string; stderr: string } {
  const out = join(dir, `${m}.distilled.ko`);
  const r = cli(["distill", inPath, "--base", vmlinux, "-o", out]);
  expect(r.code, r.stderr).toBe(0);
  return { out, stderr: r.stderr };
}

function checkOne(ko: Uint8Array, dir: string, m: string, vmlinux: string, golden: Uint8Array | undefined): void {
  const inPath = join(dir, `${m}.ko`);
  writeFileSync(inPath, ko);
  const { out } = distillKo(inPath, vmlinux, dir, m);
  const outBytes = new Uint8Array(readFileSync(out));
  if (hasReadelf) {
    const r = spawnSync("readelf", ["-a", "-W", out], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.status, m).toBe(0);
    expect(r.stderr, m).toBe("");
  }
  const split = loadBtfSync(outBytes);
  expect(split.source?.sections).toContain(".BTF.base");
  const base = Btf.parse(fixtureOrCorpusBase(vmlinux));
  const rel = relocate(split, base);
  if (golden) expect(equalBytes(rel.btf.toBytes(), golden), m).toBe(true);
  // .BTF_ids: each id names the same type (kind and name) as before distilling.
  const before = loadBtfSync(ko, { base });
  expect(btfIdsTargets(outBytes, split)).toEqual(btfIdsTargets(ko, before));
  // The API call the explorer uses writes the CLI's bytes.
  const api = apiDistillKo(ko, before);
  expect(equalBytes(api.bytes, outBytes), `${m}: distillKo == btfkit distill -o`).toBe(true);
  expect(api.droppedSignature).toBe(readElf(ko).signature !== undefined);
  rel.btf.free(); split.free(); before.free(); base.free();
}

function fixtureOrCorpusBase(path: string): Uint8Array {
  return path.startsWith(FIXTURES) ? fixture("k61-50/vmlinux.btf.gz") : new Uint8Array(gunzipSync(readFileSync(path)));
}

describe("distilled .ko files", () => {
  it("tcp_bbr (fixture): sound ELF, golden relocation, .BTF_ids names kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-ko-"));
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const before = loadBtfSync(ko, { base: Btf.parse(fixture("k61-50/vmlinux.btf.gz")) });
    const names = btfIdsTargets(ko, before);
    expect(names.length).toBe(8);
    checkOne(ko, dir, "tcp_bbr", fixturePath("k61-50/vmlinux.btf.gz"), fixture("golden/relocate/k61-50__to__k61-50/tcp_bbr.btf.gz"));
    if (!hasReadelf) console.log("ko: readelf not found: the ELF was not checked by readelf");
  });

  it("distillKo refuses BTF that was not read from an ELF file", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const raw = Btf.parse(fixture("k61-50/modules/tcp_bbr.btf.gz"), { base });
    try {
      expect(() => apiDistillKo(fixture("k61-50/ko/tcp_bbr.ko.gz"), raw)).toThrow(BtfError);
      expect(() => apiDistillKo(fixture("k61-50/ko/tcp_bbr.ko.gz"), raw)).toThrow(/not read from one/);
    } finally {
      raw.free(); base.free();
    }
  });
});

describe.runIf(HAS_CORPUS)("every corpus .ko", () => {
  it("distills, passes readelf, relocates to the golden bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-koc-"));
    const kos = readdirSync(join(CORPUS, "k61-50/ko")).filter((f) => f.endsWith(".ko"));
    for (const f of kos) {
      const m = f.slice(0, -3);
      const g = join(GOLDEN, "relocate/k61-50__to__k61-50", `${m}.btf`);
      checkOne(new Uint8Array(readFileSync(join(CORPUS, "k61-50/ko", f))), dir, m, join(CORPUS, "k61-50/vmlinux.btf.gz"), existsSync(g) ? new Uint8Array(readFileSync(g)) : undefined);
    }
    console.log(`ko (corpus): ${kos.length} modules distilled into .ko, readelf ${hasReadelf ? "accepted each" : "absent"}, relocated to golden bytes`);
    expect(kos.length).toBe(8);
  });
});
