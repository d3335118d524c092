// The machinery of the real-kernel test: Debian kernel packages fetched into
// a private cache, an initramfs (static busybox + test/kernel/loader.c), and
// qemu boots with a hard timeout and retries. kernel.test.ts holds the steps
// and the assertions.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCpio, CpioEntry } from "./cpio.js";

export const OLD = "6.12.95+deb12-cloud-amd64";
export const NEW = "6.12.117+deb13-cloud-amd64";
/** Dependency-free, hardware-free modules of the older package; tcp_bbr has .BTF_ids. */
export const MODULES: Array<[name: string, path: string]> = [
  ["dummy", "drivers/net/dummy"],
  ["veth", "drivers/net/veth"],
  ["tun", "drivers/net/tun"],
  ["loop", "drivers/block/loop"],
  ["nbd", "drivers/block/nbd"],
  ["team", "drivers/net/team/team"],
  ["tcp_bbr", "net/ipv4/tcp_bbr"],
];
/** finit_module flags of `modprobe --force`: MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC. */
export const FORCE_FLAGS = 1 | 2;

export const CACHE = process.env.BTFKIT_KERNEL_CACHE || join(homedir(), ".cache/btfkit/kernel-test");

export function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).slice(-2000)}`);
  return r.stdout;
}

/** Where one kernel's extracted files live in the cache: vmlinuz and the modules the test uses. */
export function kernelDir(release: string): string {
  return join(CACHE, release);
}

const kernelReady = (release: string, withModules: boolean) =>
  existsSync(join(kernelDir(release), "vmlinuz")) &&
  (!withModules || MODULES.every(([n]) => existsSync(join(kernelDir(release), "modules", `${n}.ko.xz`))));
const busyboxPath = () => join(CACHE, "busybox");

/** True when nothing needs downloading. */
export function cacheWarm(): boolean {
  return kernelReady(OLD, true) && kernelReady(NEW, false) && existsSync(busyboxPath());
}

/**
 * Fetch (apt-get download, with bookworm-backports and trixie in a private
 * apt state directory: the system's sources are never touched) whatever the
 * cache lacks, and keep only what the test uses. Returns log lines.
 */
export function ensureCache(): string[] {
  const log: string[] = [];
  if (cacheWarm()) return [`cache ${CACHE}: warm`];
  const apt = join(CACHE, "apt");
  const debs = join(CACHE, "debs");
  for (const d of [join(apt, "lists/partial"), join(apt, "cache/archives/partial"), debs]) mkdirSync(d, { recursive: true });
  const sources = join(apt, "sources.list");
  writeFileSync(sources, "deb http://deb.debian.org/debian bookworm-backports main\ndeb http://deb.debian.org/debian trixie main\n");
  const A = [
    "-o", `Dir::Etc::SourceList=${sources}`, "-o", "Dir::Etc::SourceParts=/dev/null",
    "-o", `Dir::State::Lists=${join(apt, "lists")}`, "-o", `Dir::Cache=${join(apt, "cache")}`,
    "-o", "Debug::NoLocking=1", "-q",
  ];
  // As root apt drops to _apt for downloads, which cannot write into a private directory.
  if (process.getuid?.() === 0) A.push("-o", "APT::Sandbox::User=root");
  const want: Array<[pkg: string, ready: boolean]> = [
    [`linux-image-${OLD}-unsigned`, kernelReady(OLD, true)],
    [`linux-image-${NEW}-unsigned`, kernelReady(NEW, false)],
    ["busybox-static", existsSync(busyboxPath())],
  ];
  const debOf = (pkg: string) => readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  const missing = want.filter(([p, ready]) => !ready && !debOf(p)).map(([p]) => p);
  if (missing.length) {
    const t0 = Date.now();
    run("apt-get", [...A, "update"]);
    run("apt-get", [...A, "download", ...missing], { cwd: debs });
    log.push(`downloaded ${missing.join(", ")} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const [pkg, ready] of want) {
    if (ready) continue;
    const deb = debOf(pkg);
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${debs}`);
    const x = mkdtempSync(join(tmpdir(), "btfkit-deb-"));
    try {
      run("dpkg-deb", ["-x", join(debs, deb), x]);
      if (pkg === "busybox-static") {
        const bb = ["usr/bin/busybox", "bin/busybox"].map((p) => join(x, p)).find(existsSync);
        if (!bb) throw new Error(`${deb} has no busybox binary`);
        copyFileSync(bb, busyboxPath() + ".tmp");
        renameSync(busyboxPath() + ".tmp", busyboxPath());
      } else {
        const release = pkg.slice("linux-image-".length, -"-unsigned".length);
        const dir = kernelDir(release);
        mkdirSync(join(dir, "modules"), { recursive: true });
        for (const [n, p] of MODULES) {
          const src = join(x, "lib/modules", release, "kernel", `${p}.ko.xz`);
          if (existsSync(src)) copyFileSync(src, join(dir, "modules", `${n}.ko.xz`));
        }
        copyFileSync(join(x, "boot", `config-${release}`), join(dir, "config"));
        // vmlinuz last: its presence marks the directory complete.
        copyFileSync(join(x, "boot", `vmlinuz-${release}`), join(dir, "vmlinuz.tmp"));
        renameSync(join(dir, "vmlinuz.tmp"), join(dir, "vmlinuz"));
      }
      log.push(`extracted ${deb}`);
    } finally {
      rmSync(x, { recursive: true, force: true });
    }
  }
  return log;
}

/** The static loader, built at test time. */
export function buildLoader(work: string): string {
  const out = join(work, "loader");
  run("gcc", ["-static", "-Os", "-o", out, join(dirname(fileURLToPath(import.meta.url)), "loader.c")]);
  return out;
}

/**
 * /init: mount the pseudo filesystems, load every module with the force flags,
 * then print each /sys/kernel/btf/<module> as base64, the tcp_bbr evidence,
 * the taint mask and dmesg between markers, and power off.
 */
function initScript(files: string[], mods: string[]): string {
  return `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo; echo "@@BOOTED $(cat /proc/sys/kernel/osrelease)"
/loader ${FORCE_FLAGS} ${files.map((m) => `/m/${m}.ko`).join(" ")}
for m in ${mods.join(" ")}; do
  if [ -e /sys/kernel/btf/$m ]; then
    echo "@@BTF $m BEGIN"; base64 /sys/kernel/btf/$m; echo "@@BTF $m END"
  else
    echo "@@NOBTF $m"
  fi
done
echo "@@CC $(cat /proc/sys/net/ipv4/tcp_available_congestion_control)"
echo "@@TAINT $(cat /proc/sys/kernel/tainted)"
echo "@@DMESG BEGIN"; dmesg; echo "@@DMESG END"
echo "@@DONE"
poweroff -f
`;
}

/** `files`: file stem -> module, loaded in this order; `mods`: the module names whose sysfs BTF is read back. */
export function buildInitramfs(busybox: Uint8Array, loader: Uint8Array, files: Map<string, Uint8Array>, mods: string[]): Uint8Array {
  const enc = new TextEncoder();
  const e: CpioEntry[] = [];
  for (const d of ["bin", "dev", "proc", "sys", "m"]) e.push({ path: d, type: "dir" });
  // The kernel opens /dev/console for init's stdio before /init runs (devtmpfs is not mounted yet).
  e.push({ path: "dev/console", type: "chardev", major: 5, minor: 1 });
  e.push({ path: "bin/busybox", type: "file", data: busybox, mode: 0o755 });
  for (const a of ["sh", "mount", "cat", "base64", "dmesg", "poweroff", "echo"]) e.push({ path: `bin/${a}`, type: "symlink", target: "busybox" });
  e.push({ path: "loader", type: "file", data: loader, mode: 0o755 });
  e.push({ path: "init", type: "file", data: enc.encode(initScript([...files.keys()], mods)), mode: 0o755 });
  for (const [n, b] of files) e.push({ path: `m/${n}.ko`, type: "file", data: b });
  return writeCpio(e);
}

export interface BootResult {
  /** Wall time of each attempt, ms; the last one succeeded when `ok`. */
  attempts: Array<{ ms: number; why?: string }>;
  ok: boolean;
  loads: Map<string, number>;
  btf: Map<string, Uint8Array>;
  noBtf: Set<string>;
  congestion: string;
  /** The running kernel's release, as /init saw it. */
  release: string;
  taint: number;
  dmesg: string;
  console: string;
}

export function parseConsole(text: string): Omit<BootResult, "attempts" | "ok" | "console"> {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\r/g, ""));
  const loads = new Map<string, number>();
  const btf = new Map<string, Uint8Array>();
  const noBtf = new Set<string>();
  let congestion = "", release = "", taint = -1;
  const dmesg: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    let m: RegExpMatchArray | null;
    if ((m = l.match(/^@@LOAD \/m\/(\S+)\.ko (\d+)$/))) loads.set(m[1], Number(m[2]));
    else if ((m = l.match(/^@@NOBTF (\S+)$/))) noBtf.add(m[1]);
    else if ((m = l.match(/^@@CC (.*)$/))) congestion = m[1].trim();
    // The firmware's last output shares the first line.
    else if ((m = l.match(/@@BOOTED (\S+)$/))) release = m[1];
    else if ((m = l.match(/^@@TAINT (\d+)$/))) taint = Number(m[1]);
    else if ((m = l.match(/^@@BTF (\S+) BEGIN$/))) {
      let b64 = "";
      for (i++; i < lines.length && lines[i] !== `@@BTF ${m[1]} END`; i++) b64 += lines[i].trim();
      btf.set(m[1], new Uint8Array(Buffer.from(b64, "base64")));
    } else if (l === "@@DMESG BEGIN") {
      for (i++; i < lines.length && lines[i] !== "@@DMESG END"; i++) dmesg.push(lines[i]);
    }
  }
  return { loads, btf, noBtf, congestion, release, taint, dmesg: dmesg.join("\n") };
}

/**
 * Boot `vmlinuz` with `initrd` under software emulation; a boot that crashes
 * or hangs (no @@DONE within `timeoutMs`) is retried up to `retries` times.
 */
export function boot(vmlinuz: string, initrd: string, opts: { timeoutMs?: number; retries?: number } = {}): BootResult {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const retries = opts.retries ?? 3;
  const attempts: BootResult["attempts"] = [];
  let text = "";
  for (let a = 0; a <= retries; a++) {
    const t0 = Date.now();
    const r = spawnSync("qemu-system-x86_64", [
      "-accel", "tcg", "-m", "512M", "-smp", "1", "-nographic", "-no-reboot",
      "-kernel", vmlinuz, "-initrd", initrd,
      "-append", "console=ttyS0 panic=-1 loglevel=1 oops=panic",
    ], { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 28 });
    const ms = Date.now() - t0;
    text = (r.stdout?.toString("latin1") ?? "") + (r.stderr?.length ? `\n[qemu stderr] ${r.stderr.toString()}` : "");
    if (/^@@DONE\r?$/m.test(text)) {
      attempts.push({ ms });
      return { attempts, ok: true, console: text, ...parseConsole(text) };
    }
    const why = r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}` : `exit ${r.status} without @@DONE`;
    attempts.push({ ms, why: `${why}; console tail: ${text.slice(-300).replace(/\s+/g, " ")}` });
  }
  return { attempts, ok: false, console: text, ...parseConsole(text) };
}

export function sizeOf(path: string): number {
  return statSync(path).size;
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
