#!/usr/bin/env python3
# Loads raw BTF blobs with the bpf(BPF_BTF_LOAD) syscall of the running
# kernel and prints one JSON line per file: {"file", "ok", "errno", "log",
# "log_id"}: the last line of the kernel's verifier log, and the type id of
# the last "[id] KIND ..." line (the type the kernel blames; 0 if none). Used by
# test/validate-kernel.test.ts to compare btfkit's `kernel` verdicts with the
# real kernel's, when the machine allows BPF_BTF_LOAD (root or CAP_BPF).
# Exit status 3 when the syscall itself is unavailable (not x86-64/aarch64
# Linux, or EPERM on a valid probe blob): the caller then skips with a reason.
import ctypes, json, os, platform, re, struct, sys

NR_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_BTF_LOAD = 18
LOG_SIZE = 1 << 16


def load(libc, blob):
    data = ctypes.create_string_buffer(blob, len(blob))
    log = ctypes.create_string_buffer(LOG_SIZE)
    # union bpf_attr, BPF_BTF_LOAD part: btf, btf_log_buf (u64), btf_size, btf_log_size, btf_log_level (u32)
    attr = struct.pack("<QQIII", ctypes.addressof(data), ctypes.addressof(log), len(blob), LOG_SIZE, 1)
    abuf = ctypes.create_string_buffer(attr, 128)
    fd = libc.syscall(NR_BPF, BPF_BTF_LOAD, abuf, 128)
    err = ctypes.get_errno()
    if fd >= 0:
        os.close(fd)
    lines = [l for l in log.value.decode("latin-1").split("\n") if l.strip()]
    ids = [int(m.group(1)) for m in (re.match(r"\[(\d+)\] ", l) for l in lines) if m]
    return fd >= 0, (0 if fd >= 0 else err), (lines[-1] if lines else ""), (ids[-1] if ids else 0)


def main():
    if NR_BPF is None or sys.platform != "linux":
        print("no bpf() syscall number for this machine", file=sys.stderr)
        return 3
    libc = ctypes.CDLL(None, use_errno=True)
    probe = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 16, 16, 5) + struct.pack("<IIII", 1, 1 << 24, 4, 32) + b"\0int\0"
    ok, err, _, _ = load(libc, probe)
    if not ok:
        print("BPF_BTF_LOAD refused a valid probe: " + os.strerror(err), file=sys.stderr)
        return 3
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            ok, err, last, log_id = load(libc, f.read())
        print(json.dumps({"file": path, "ok": ok, "errno": err, "log": last, "log_id": log_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
