#!/usr/bin/env python3
"""Helpers of scripts/gpu-check.sh (standard library only: it runs on the GPU machine).

    gpu_check_util.py measure --out STEP.json --timeout S [--gpu-mem] -- CMD ARGS...
        runs CMD (stdout -> STEP.out, stderr -> STEP.err), records its exit code, wall
        seconds, peak resident memory of it and its children (getrusage), whether it timed
        out, its stdout parsed as JSON when it is JSON, and with --gpu-mem the peak device
        memory nvidia-smi saw while it ran (polled every 50 ms); exits with CMD's code (124
        on timeout, 128 + N when killed by signal N).
    gpu_check_util.py flip PROOF.json BAD.json     # one byte of the proof flipped
    gpu_check_util.py table OUT_DIR [ORDER]         # the Markdown table of OUT_DIR/*/
"""

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time


def measure(argv):
    out, timeout, gpu_mem = None, None, False
    while argv and argv[0] != "--":
        a = argv.pop(0)
        if a == "--out":
            out = argv.pop(0)
        elif a == "--timeout":
            timeout = float(argv.pop(0))
        elif a == "--gpu-mem":
            gpu_mem = True
    cmd = argv[1:]
    base = out[: -len(".json")]
    peak = {"mib": None}
    stop = threading.Event()

    def poll():
        try:
            p = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                 "-lms", "50"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError:
            return
        for line in p.stdout:
            try:
                v = max(int(x) for x in line.split(",") if x.strip())
                peak["mib"] = v if peak["mib"] is None else max(peak["mib"], v)
            except ValueError:
                pass
            if stop.is_set():
                break
        p.kill()
        p.wait()

    poller = threading.Thread(target=poll, daemon=True) if gpu_mem else None
    if poller:
        poller.start()
    start = time.time()
    timed_out = False
    with open(base + ".out", "w") as so, open(base + ".err", "w") as se:
        proc = subprocess.Popen(cmd, stdout=so, stderr=se, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
    wall = time.time() - start
    stop.set()
    if poller:
        poller.join(timeout=2)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "cmd": cmd,
        "err_file": base + ".err",
        "rc": rc,
        "wall_s": wall,
        "timed_out": timed_out,
        "max_rss_bytes": usage.ru_maxrss * 1024,
        "gpu_mem_peak_mib": peak["mib"],
    }
    try:
        with open(base + ".out") as f:
            text = f.read().strip()
        result["json"] = json.loads(text.splitlines()[-1]) if text else None
    except (ValueError, IndexError):
        result["json"] = None
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    return 124 if timed_out else (rc if rc >= 0 else 128 - rc)


def flip(src, dst):
    with open(src) as f:
        p = json.load(f)
    b = bytearray.fromhex(p["proof"])
    b[len(b) // 2] ^= 0x01
    p["proof"] = b.hex()
    with open(dst, "w") as f:
        json.dump(p, f)
    return 0


def load(d, step):
    path = os.path.join(d, step + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def why(m):
    """The error a measured command reported: its --json error, else its last stderr line."""
    err = (m.get("json") or {}).get("error")
    if err:
        return " ".join(err.split())
    lines = open(m["err_file"]).read().strip().splitlines() if m.get("err_file") else []
    return lines[-1] if lines else ""


def fmt_s(x):
    return "" if x is None else f"{x:.2f}"


def fmt_gib(b):
    return "" if b is None else f"{b / 2**30:.2f}"


def verdict(m, want_rc):
    """ok / FAIL / timeout / skipped for a measured verification."""
    if m is None:
        return "skipped"
    if m["timed_out"]:
        return "timeout"
    if m["rc"] == want_rc:
        return "yes" if want_rc == 0 else "rejected"
    if want_rc == 0:
        return "NO" if m["rc"] == 1 else f"error {m['rc']}"
    return "ACCEPTED" if m["rc"] == 0 else f"error {m['rc']}"


def table(out, order_file=None):
    rows = []
    notes = []
    accept = []
    breakdown_rows = []
    names = sorted(os.listdir(out))
    if order_file and os.path.exists(order_file):
        order = open(order_file).read().split()
        names.sort(key=lambda n: order.index(n) if n in order else len(order))
    for name in names:
        d = os.path.join(out, name)
        info = load(d, "model")
        if info is None:
            continue
        srs, setup, cpu, gpu = (load(d, s) for s in ("srs", "setup", "prove_cpu", "prove_gpu"))
        v, ve, bv, bve = (load(d, s) for s in ("verify", "verify_evm", "bad_verify", "bad_evm"))
        cpu_s = ((cpu or {}).get("json") or {}).get("prove_seconds")
        if cpu and (cpu["rc"] != 0 or cpu["timed_out"]):
            cpu_s = None
        g = ((gpu or {}).get("json") or {}).get("cuda") or {}
        runs = g.get("prove_seconds") or []
        upload = g.get("key_upload_seconds")
        phases = g.get("phases") or []
        gpu_ok = gpu is not None and gpu["rc"] == 0 and not gpu["timed_out"]
        for step, m in (("GPU prove", gpu), ("CPU prove", cpu), ("setup", setup)):
            if m is not None and m["timed_out"]:
                notes.append(f"{name}: {step} timed out after {m['wall_s']:.0f} s (budget)")
            elif m is not None and m["rc"] != 0:
                notes.append(f"{name}: {step} failed (exit {m['rc']}): {why(m)}")
        same = []
        sha_path = os.path.join(d, "settings.sha256")
        if info.get("settings_sha256_here") and os.path.exists(sha_path):
            here = open(sha_path).read().strip() == info["settings_sha256_here"]
            same.append("settings " + ("yes" if here else "NO"))
        setup_json = (setup or {}).get("json") or {}
        if info.get("vk_hash_here") and setup_json.get("vk_hash"):
            same.append("vk " + ("yes" if setup_json["vk_hash"] == info["vk_hash_here"] else "NO"))
        vk_same = ", ".join(same)
        evm = verdict(ve, 0) if gpu_ok else "skipped"
        if ve and ve["rc"] == 0 and ve.get("json"):
            evm += f" ({ve['json'].get('gas')} gas)"
        elif ve and ve["rc"] == 2:
            notes.append(f"{name}: verify-evm error: {why(ve)}")
        ratio = ""
        if runs and cpu_s:
            ratio = f"{runs[0] / cpu_s:.3f}"
            if name in ("gen_k20", "gen_k22"):
                ok = "yes" if runs[0] <= 0.1 * cpu_s else "NO"
                accept.append(f"{name}: GPU {runs[0]:.2f} s (key upload included) against "
                              f"CPU {cpu_s:.2f} s = {runs[0] / cpu_s:.3f} x: {ok}")
        breakdown = ", ".join(f"{p['name']} {p['seconds']:.2f}" for p in phases
                              if p["name"] in ("synthesize", "batch_invert_witness", "phase1",
                                               "phase2", "phase3", "phase4a", "phase4b",
                                               "phase5"))
        if g:
            breakdown_rows.append([
                name,
                fmt_s(g.get("load_seconds")),
                fmt_s(g.get("device_init_seconds")),
                fmt_s(g.get("params_seconds")),
                fmt_gib(g.get("key_bytes")),
                fmt_s(upload),
                fmt_gib(sum(t["bytes"] for t in g.get("h2d") or [])),
                ", ".join(f"{p['name']} {p['seconds']:.3f}" for p in phases),
            ])
        rows.append([
            name,
            str(info.get("logrows", "")),
            fmt_s((srs or {}).get("wall_s")),
            fmt_s((setup or {}).get("wall_s")),
            fmt_s(cpu_s),
            fmt_s(runs[0] if runs else None),
            fmt_s(runs[1] if len(runs) > 1 else None),
            fmt_s(upload),
            ratio,
            fmt_gib((cpu or {}).get("max_rss_bytes")),
            fmt_gib((gpu or {}).get("max_rss_bytes")),
            "" if not gpu or gpu.get("gpu_mem_peak_mib") is None
            else f"{gpu['gpu_mem_peak_mib'] / 1024:.2f}",
            fmt_gib(g.get("peak_device_bytes")),
            verdict(v, 0) if gpu_ok else "skipped",
            evm,
            f"{verdict(bv, 1)} / {verdict(bve, 1)}" if gpu_ok else "skipped",
            vk_same,
            breakdown,
        ])
    head = ["model", "logrows", "SRS s", "setup s (keygen)", "CPU prove s",
            "GPU prove s (1st, key upload incl.)", "GPU prove s (2nd)", "key upload s (apart)",
            "GPU/CPU", "host RSS GiB (CPU)", "host RSS GiB (GPU)", "device GiB (nvidia-smi)",
            "device GiB (allocator)", "GPU proof verifies", "verifies in revm",
            "flipped byte: native / revm", "same as built here", "GPU phases s"]
    print_table(head, rows)
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    if breakdown_rows:
        print()
        print("GPU breakdown (child process; phases of the last proof, nested sections overlap):")
        print()
        print_table(["model", "load s", "device init s", "params convert s", "key GiB",
                     "key upload s (apart)", "H2D GiB (last proof)", "phases s"], breakdown_rows)
    if accept:
        print("\nGPU prove <= 0.1 x 16-core CPU prove:")
        for a in accept:
            print(f"- {a}")
    return 0


def print_table(head, rows):
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def main():
    cmd = sys.argv[1]
    if cmd == "measure":
        return measure(sys.argv[2:])
    if cmd == "flip":
        return flip(sys.argv[2], sys.argv[3])
    if cmd == "table":
        return table(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
