#!/usr/bin/env python3
"""Scaling curve (issue 14): prove seconds and peak memory against multiply-accumulates, for
MLPs of growing width and CNNs of growing channel count, zkinfer (each layout asked for) and
EZKL in the same run. See docs/scaling.md.

For each model of models/make_scaling.py (generated, seeded, into WORK/models), smallest MACs
first:

  zkinfer  `zkinfer bench DIR --out WORK/zkinfer/NAME-LAYOUT --layout LAYOUT` for each layout
           (compile calibrated on the model's inputs, keygen, prove input_00, verify); its
           bench.json gives prove_seconds, prove_peak_mib (VmHWM of the process while proving),
           keygen figures, logrows, circuit rows, MACs.
  EZKL     ../shared/peer/ezkl_bench.sh on a view of the model directory holding its first
           --ezkl-inputs inputs (default 1: the peer script proves every input it is given),
           with --runs 1 --samples N: calibrate on those inputs, setup, prove input_00 once,
           verify. Its prove_s_median / prove_peak_rss_mb give the figures.

EZKL's SRS for a logrows is the raw parameters of zkinfer's cached development SRS where there
is one (seed_ezkl_srs: same format, insecure like EZKL's own gen_srs, which it would otherwise
run first, outside the time limit but for many minutes at the larger sizes).

Every command runs in its own process group under a watchdog: a wall-clock limit
(--ezkl-timeout, default 1200 s = 20 min per model, not counting the making of a new SRS, once
per logrows; --zkinfer-timeout, default 3600 s) and a
memory limit on the summed RSS of the command's process tree (--mem-limit-gib, default 24,
capped at 95% of this machine's RAM). A command that passes either is stopped (SIGTERM, then
SIGKILL) and recorded as "timeout" / "memory_limit" with what it had measured by then: the
steps it finished (EZKL: per-step logs; zkinfer: progress lines), the step it was in and for
how long, and the sampled peak RSS. A command that fails is recorded as "failed" with its error.
EZKL is stopped as "too_large" when its calibration asks for more than 2^--ezkl-max-logrows rows
(default 24: its SRS alone would be over 2 GB and take hours to make, for a key that cannot fit).
Once EZKL is stopped by the watchdog on a model, the larger models of the same family are
recorded as "skipped" rather than run (each would take the full limit to fail the same way);
--ezkl-all-sizes runs them anyway.

Writes OUT/scaling.json (after every model, so an interrupted run keeps what it measured),
OUT/scaling.png (two log-log panels: prove seconds and prove peak memory against MACs, one
line per prover/layout/family, runs that did not finish marked at the figures they reached),
and, when OUT/scaling.md has the markers <!-- scaling-table:begin --> / <!-- scaling-table:end -->,
the table between them. --plot-only redraws the PNG and the table from OUT/scaling.json.

Usage: python3 scripts/scaling_curve.py [--sizes all|small] [--only NAME,...]
           [--layouts tall,wide] [--skip-ezkl] [--out docs/] [--work target/scaling]
           [--ezkl-timeout S] [--zkinfer-timeout S] [--mem-limit-gib G] [--ezkl-inputs N]
           [--ezkl-max-logrows L] [--ezkl-all-sizes] [--keep-keys] [--plot-only]
Needs numpy, onnx, onnxruntime, matplotlib; the release binary target/release/zkinfer (copied
into WORK/bin at the start, so a rebuild during the run does not mix binaries).
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT.parent / "shared" / "peer" / "ezkl_bench.sh"
EZKL_VERSION = "23.0.5"  # pinned by ezkl_bench.sh
POLL_S = 1.0  # watchdog period, seconds
TABLE_BEGIN, TABLE_END = "<!-- scaling-table:begin -->", "<!-- scaling-table:end -->"


def log(msg):
    print(f"[scaling {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_generator():
    sys.dont_write_bytecode = True  # no models/__pycache__ in the tree
    spec = importlib.util.spec_from_file_location("make_scaling", ROOT / "models" / "make_scaling.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------- machine and versions
def mem_total_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def machine_info():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        pass
    mem = mem_total_bytes()
    return {"nproc": os.cpu_count(), "cpu_model": cpu,
            "mem_total_gib": round(mem / 2**30, 2) if mem else None,
            "kernel": platform.release(), "python": platform.python_version()}


def git_info():
    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"),
            "dirty_tracked_files": len(dirty.splitlines()) if dirty is not None else None}


def snapshot_binary(src, work):
    """Copy the zkinfer binary into WORK/bin (retrying while a rebuild relinks it)."""
    for attempt in range(60):
        try:
            data = src.read_bytes()
            if len(data) > 1_000_000 and data[:4] == b"\x7fELF":
                break
        except OSError:
            pass
        log(f"{src} missing or being relinked; retrying in 10 s ({attempt + 1}/60)")
        time.sleep(10)
    else:
        sys.exit(f"cannot read {src}; build it with cargo build --release")
    sha = hashlib.sha256(data).hexdigest()
    dst = work / "bin" / f"zkinfer-{sha[:12]}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    for old in dst.parent.glob("zkinfer-*"):  # copies from earlier runs
        if old != dst:
            old.unlink()
    if not dst.exists():
        tmp = dst.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o755)
        tmp.replace(dst)
    mtime = datetime.datetime.fromtimestamp(src.stat().st_mtime, datetime.timezone.utc)
    return dst, {"path": str(src), "sha256": sha, "mtime_utc": mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "run_copy": str(dst)}


# ----------------------------------------------------------------- watchdog
def _proc_table():
    """{pid: (ppid, rss_bytes)} of every process we can read."""
    page = os.sysconf("SC_PAGE_SIZE")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm") as f:
                rss_pages = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), rss_pages * page)
    return table


def tree_rss(root):
    """Summed RSS (bytes) of root and all its descendants, and their pids."""
    table = _proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack, pids = 0, [root], []
    while stack:
        pid = stack.pop()
        if pid not in table:
            continue
        pids.append(pid)
        total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total, pids


def run_watched(cmd, stdout_path, stderr_path, timeout_s, mem_limit, on_poll=None, env=None):
    """Run cmd in its own session under a wall-clock and a process-tree RSS limit.
    on_poll(elapsed, rss) is called every POLL_S; what it returns (seconds, or None) is not
    counted against timeout_s, and a string stops the command with that string as the reason. Returns {rc, wall_s, stopped (None|"timeout"|"memory_limit"),
    peak_tree_mib}."""
    t0 = time.monotonic()
    peak = 0
    stopped = None
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True, env=env)
        try:
            while proc.poll() is None:
                rss, pids = tree_rss(proc.pid)
                peak = max(peak, rss)
                elapsed = time.monotonic() - t0
                polled = on_poll(elapsed, rss) if on_poll else None
                excluded = 0.0 if isinstance(polled, str) else (polled or 0.0)
                if isinstance(polled, str):
                    stopped = polled
                elif stopped is None and elapsed - excluded > timeout_s:
                    stopped = "timeout"
                elif stopped is None and rss > mem_limit:
                    stopped = "memory_limit"
                if stopped:
                    log(f"  stopping ({stopped} after {elapsed:.0f} s, tree RSS {rss / 2**20:.0f} MiB)")
                    _stop(proc, pids)
                    break
                time.sleep(POLL_S)
        except BaseException:
            _stop(proc, tree_rss(proc.pid)[1])
            raise
    return {"rc": proc.returncode, "wall_s": round(time.monotonic() - t0, 3),
            "stopped": stopped, "peak_tree_mib": round(peak / 2**20, 1)}


def _stop(proc, pids):
    """SIGTERM the command (EZKL's driver then kills its step's own process group), SIGKILL
    whatever of its tree is left after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *tree_rss(proc.pid)[1], *pids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def load1():
    return round(os.getloadavg()[0], 2)


def tail(path, n=8):
    try:
        lines = [l for l in Path(path).read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# ----------------------------------------------------------------- zkinfer
ZK_COMPILED = re.compile(r"compiled, logrows (\d+) \((\d+) circuit rows[:)]")
ZK_KEYS = re.compile(r"keys in ([\d.]+) s")
ZK_PHASES = [("keygen", "setting up"), ("prove", "; proving")]  # progress lines on stderr


def run_zkinfer(binary, mdir, meta, layout, work, opt, mem_limit):
    name = meta["name"]
    out = work / "zkinfer" / f"{name}-{layout}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [str(binary), "bench", str(mdir), "--out", str(out), "--layout", layout]
    rec = {"model": name, "family": meta["family"], "macs": meta["macs"], "prover": "zkinfer",
           "layout": layout, "command": " ".join(cmd), "load1_before": load1()}
    log(f"{name} ({meta['macs']:,} MACs): zkinfer bench --layout {layout}")
    phases = {}  # phase -> seconds since start when its progress line appeared

    def on_poll(elapsed, _rss):
        try:
            err = (out / "stderr.txt").read_text(errors="replace")
        except OSError:
            return
        for phase, mark in ZK_PHASES:
            if mark in err:
                phases.setdefault(phase, elapsed)

    res = run_watched(cmd, out / "stdout.txt", out / "stderr.txt", opt.zkinfer_timeout, mem_limit,
                      on_poll=on_poll)
    rec.update(load1_after=load1(), wall_s=res["wall_s"], peak_tree_mib=res["peak_tree_mib"])
    bench = None
    try:
        recs = json.loads((out / "bench.json").read_text())
        bench = next((r for r in recs if r.get("model") == name), None)
    except (OSError, ValueError):
        pass
    if bench is not None and res["stopped"] is None and res["rc"] in (0, 1):
        rec["status"] = "ok" if bench.get("verified") else "failed"
        if not bench.get("verified"):
            rec["error"] = "proof did not verify"
        for key in ("logrows", "rows", "circuit_rows", "circuit_rows_per_mac", "circuit_rows_by_op",
                    "compile_seconds",
                    "keygen_seconds", "keygen_peak_mib", "prove_seconds", "prove_peak_mib",
                    "verify_seconds", "proof_bytes", "pk_bytes", "vk_bytes", "verified",
                    "max_abs_error"):
            rec[key] = bench.get(key)
        rec["macs_zkinfer"] = bench.get("macs")
    else:
        rec["status"] = res["stopped"] or "failed"
        err = (out / "stderr.txt").read_text(errors="replace")
        m = ZK_COMPILED.search(err)
        if m:
            rec["logrows"], rec["circuit_rows"] = int(m.group(1)), int(m.group(2))
        m = ZK_KEYS.search(err)
        if m:
            rec["keygen_seconds"] = float(m.group(1))
        phase = next((p for p, mark in reversed(ZK_PHASES) if mark in err), "compile")
        rec["stopped_in"] = phase
        rec["stopped_in_s"] = round(res["wall_s"] - phases.get(phase, 0.0), 1)
        if res["stopped"] is None:
            rec["error"] = f"exit {res['rc']}: {tail(out / 'stderr.txt', 6)}"
    if not opt.keep_keys:  # the proving key and a copy of the cached SRS: GBs at the top sizes
        for f in [*out.glob("*/pk.bin"), *out.glob("*/srs.params")]:
            f.unlink()
    rec["work_dir"] = str(out)
    _say(rec)
    return rec


# ----------------------------------------------------------------- EZKL
def ezkl_view(mdir, view, n_inputs):
    """A model directory holding model.onnx and the first n inputs / ref outputs (symlinks)."""
    shutil.rmtree(view, ignore_errors=True)
    (view / "inputs").mkdir(parents=True)
    (view / "ref_outputs").mkdir()
    (view / "model.onnx").symlink_to(mdir / "model.onnx")
    for src in sorted((mdir / "inputs").glob("input_*.json"))[:n_inputs]:
        (view / "inputs" / src.name).symlink_to(src)
        ref = mdir / "ref_outputs" / src.name.replace("input_", "output_")
        (view / "ref_outputs" / ref.name).symlink_to(ref)


def ezkl_steps(work):
    """Finished EZKL steps from its per-step logs: {label: {s, cpu_s, peak_rss_mib}}."""
    steps = {}
    logs = work / "logs"
    if not logs.is_dir():
        return steps
    for res in sorted(logs.glob("*.json"), key=lambda p: p.stat().st_mtime):
        try:
            r = json.loads(res.read_text())
        except (OSError, ValueError):
            continue
        step = {"s": round(r.get("s", 0.0), 3), "cpu_s": round(r.get("cpu_s", 0.0), 3)}
        try:
            tv = res.with_suffix(".time").read_text()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
            if m:
                step["peak_rss_mib"] = round(int(m.group(1)) / 1024, 1)
        except OSError:
            pass
        steps[res.stem] = step
    return steps


def zkinfer_cache():
    """zkinfer's development SRS cache (prover::default_cache_dir)."""
    if os.environ.get("ZKINFER_CACHE"):
        return Path(os.environ["ZKINFER_CACHE"])
    return Path(os.environ.get("HOME", "/tmp")) / ".cache" / "zkinfer"


def raw_params_len(k):
    """Bytes of halo2 raw KZG parameters of 2^k points: k, g and its Lagrange form, g2, [τ]g2."""
    return 4 + 2 * 2**k * 64 + 2 * 128


def seed_ezkl_srs():
    """Give EZKL's SRS cache (kzgK.srs) the raw parameters of every development SRS zkinfer
    has cached and EZKL has not: the same file format and, like EZKL's own `gen_srs`, an
    insecure SRS, so both provers prove against the same kind of parameters and EZKL's runs
    do not spend many minutes making a large SRS (its gen_srs did not finish logrows 22 in
    17 minutes here). Returns the logrows copied."""
    peer_srs = Path(os.environ.get("ZKINFER_PEER_HOME", Path.home() / ".cache" / "zkinfer-peer")) / "srs"
    copied = []
    cached = {int(p.stem.rpartition("k")[2]): p for p in zkinfer_cache().glob("dev-srs-k*.params")
              if p.stem.rpartition("k")[2].isdigit()}
    for k, src in sorted(cached.items()):
        dst = peer_srs / f"kzg{k}.srs"
        n, size = raw_params_len(k), src.stat().st_size
        if dst.exists() or size < n:
            continue
        with open(src, "rb") as f:  # zkinfer's SRS artifact: a header, then the raw parameters
            f.seek(size - n)
            if int.from_bytes(f.read(4), "little") != k:
                log(f"{src}: not raw parameters of logrows {k} at its end; not given to EZKL")
                continue
            f.seek(size - n)
            peer_srs.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(f".srs.tmp{os.getpid()}")
            with open(tmp, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 24)
            tmp.replace(dst)
        copied.append(k)
    if copied:
        log(f"EZKL SRS: zkinfer's development SRS for logrows {copied} copied into {peer_srs}")
    return copied


def too_large(ework, max_logrows):
    """Whether EZKL's calibrated settings ask for more than 2^max_logrows rows: its SRS alone
    is then 2^(logrows+7) bytes (8.6 GB at 26) and takes hours to make here, for a proving key
    that cannot fit in this machine's memory (its setup ran out of 24 GB at logrows 22)."""
    try:
        settings = json.loads((ework / "settings.json").read_text())
        return settings["run_args"]["logrows"] > max_logrows
    except (OSError, ValueError, KeyError, TypeError):
        return False


def run_ezkl(mdir, meta, work, opt, mem_limit):
    name = meta["name"]
    rec_srs = seed_ezkl_srs()
    view = work / "ezkl_models" / name
    ezkl_view(mdir, view, opt.ezkl_inputs)
    ework = work / "ezkl" / name
    shutil.rmtree(ework, ignore_errors=True)
    ework.mkdir(parents=True)
    n = opt.ezkl_inputs
    cmd = ["bash", str(PEER), str(view), "--runs", "1", "--samples", str(n), "--work", str(ework)]
    rec = {"model": name, "family": meta["family"], "macs": meta["macs"], "prover": "ezkl",
           "layout": None, "command": " ".join(cmd), "ezkl_inputs": n, "load1_before": load1()}
    if rec_srs:
        rec["srs_from_zkinfer_logrows"] = rec_srs
    log(f"{name} ({meta['macs']:,} MACs): ezkl_bench.sh --runs 1 --samples {n} "
        f"(limit {opt.ezkl_timeout:g} s)")
    # Which step is running, since when, and its sampled peak: a step's log appears as it starts.
    seen, step_peak = {}, {}

    def on_poll(elapsed, rss):
        logs = ework / "logs"
        if too_large(ework, opt.ezkl_max_logrows):
            return "too_large"
        if logs.is_dir():
            for p in logs.glob("*.log"):
                seen.setdefault(p.stem, elapsed)
        if seen:
            cur = max(seen, key=seen.get)
            step_peak[cur] = max(step_peak.get(cur, 0), rss)
        # Making the SRS for a new logrows (once per k, then cached) is not EZKL proving this
        # model: it does not count against the time limit.
        if "gen_srs" in seen:
            done = logs / "gen_srs.json"
            if done.exists():
                try:
                    return json.loads(done.read_text())["s"]
                except (OSError, ValueError, KeyError):
                    pass
            return elapsed - seen["gen_srs"] if "setup" not in seen else 0.0
        return 0.0

    res = run_watched(cmd, ework / "stdout.txt", ework / "stderr.txt", opt.ezkl_timeout, mem_limit,
                      on_poll=on_poll)
    rec.update(load1_after=load1(), wall_s=res["wall_s"], peak_tree_mib=res["peak_tree_mib"])
    result = None
    try:
        text = (ework / "stdout.txt").read_text().strip()
        result = json.loads(text.splitlines()[-1]) if text else None
    except (OSError, ValueError):
        pass
    steps = ezkl_steps(ework)
    rec["steps"] = steps
    try:
        settings = json.loads((ework / "settings.json").read_text())
        rec["logrows"] = settings["run_args"]["logrows"]
        rec["num_rows"] = settings.get("num_rows")
        rec["input_scale"] = settings["run_args"].get("input_scale")
        rec["param_scale"] = settings["run_args"].get("param_scale")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if "gen_srs" in steps:  # made for this logrows on first use (then cached); not timed against
        rec["gen_srs_seconds"] = steps["gen_srs"]["s"]
    if "setup" in steps:
        rec["keygen_seconds"] = steps["setup"]["s"]
        rec["keygen_peak_mib"] = steps["setup"].get("peak_rss_mib")
    prove = steps.get("prove_00_run1") or steps.get("prove_00")
    if prove:
        rec["prove_seconds"], rec["prove_cpu_s"] = prove["s"], prove["cpu_s"]
        rec["prove_peak_mib"] = prove.get("peak_rss_mib")
    if result is not None and res["stopped"] is None and res["rc"] == 0:
        rec["status"] = "ok"
        rec["prove_seconds"] = result["prove_s_median"]
        rec["prove_cpu_s"] = result["prove_cpu_s"]
        rec["prove_peak_mib"] = result["prove_peak_rss_mb"]  # kB / 1024: MiB
        for key in ("verify_s", "proof_bytes", "pk_bytes", "vk_bytes", "max_abs_err",
                    "argmax_agree", "n_inputs", "ezkl_version"):
            rec[key] = result.get(key)
        rec["steps_s"] = result.get("details", {}).get("steps_s")
    else:
        rec["status"] = res["stopped"] or "failed"
        if seen:
            cur = max(seen, key=seen.get)
            if cur not in steps:  # still running when stopped
                rec["stopped_in"] = cur
                rec["stopped_in_s"] = round(res["wall_s"] - seen[cur], 1)
                rec["stopped_in_peak_tree_mib"] = round(step_peak.get(cur, 0) / 2**20, 1)
        if res["stopped"] is None:
            err = [l for l in tail(ework / "stderr.txt", 40).splitlines() if "FAILED" in l]
            rec["error"] = f"exit {res['rc']}: " + (err[-1] if err else tail(ework / "stderr.txt", 6))
    if not opt.keep_keys:
        (ework / "pk.key").unlink(missing_ok=True)
    rec["work_dir"] = str(ework)
    _say(rec)
    return rec


def skipped_run(meta, stop):
    """The record of an EZKL run not made: a smaller model of the same family already ran
    past the time or memory limit, and a larger one needs more of both."""
    return {"model": meta["name"], "family": meta["family"], "macs": meta["macs"],
            "prover": "ezkl", "layout": None, "status": "skipped", "wall_s": 0.0,
            "reason": f"EZKL stopped ({stop['status']}) on {stop['model']} "
                      f"({stop['macs']:,} MACs), a smaller model of this family"}


def _say(rec):
    who = rec["prover"] + (f" {rec['layout']}" if rec["layout"] else "")
    if rec["status"] == "ok":
        log(f"  {who}: logrows {rec.get('logrows')}, prove {rec['prove_seconds']:.2f} s, "
            f"peak {rec.get('prove_peak_mib') or 0:.0f} MiB (wall {rec['wall_s']:.0f} s)")
    else:
        log(f"  {who}: {rec['status']} after {rec['wall_s']:.0f} s"
            + (f" in {rec['stopped_in']}" if rec.get("stopped_in") else "")
            + (f": {rec['error']}" if rec.get("error") else ""))


# ----------------------------------------------------------------- plot
STYLE = {  # (prover, layout) -> colour
    ("zkinfer", "tall"): "tab:blue", ("zkinfer", "wide"): "tab:green", ("ezkl", None): "tab:red",
}
FAMILY_STYLE = {"mlp": ("o", "-"), "cnn": ("s", "--")}
FAIL_LABEL = {"timeout": "timeout", "memory_limit": "mem limit", "failed": "failed",
              "too_large": "logrows over limit"}


def series_key(r):
    return (r["prover"], r["layout"], r["family"])


def series_label(prover, layout, family):
    who = "zkinfer " + layout if prover == "zkinfer" else "EZKL " + EZKL_VERSION
    return f"{who}, {family.upper()}"


def _lead(v):
    """Leading digit of v > 0 (2 for 0.2, 20, 2000)."""
    return int(round(v / 10 ** math.floor(math.log10(v) + 1e-9))) if v > 0 else 0


def _si(v, _pos=None):
    """Tick label: 0.5, 2, 50, 1k, 20k, 3M."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def fail_value(r, field):
    """Where a run that did not finish is drawn: its own figure if it got that far, else what
    the watchdog saw, a lower bound. Prove time: seconds spent in the prove step when it was
    stopped there, else seconds until it was stopped (all steps). Memory: the sampled peak RSS
    of its process tree."""
    if r.get(field):
        return r[field]
    if field == "prove_seconds":
        if (r.get("stopped_in") or "").startswith("prove") and r.get("stopped_in_s"):
            return r["stopped_in_s"]
        return r.get("wall_s")
    return r.get("peak_tree_mib")


def _who(r):
    return f"zkinfer {r['layout']}" if r["prover"] == "zkinfer" else f"EZKL {EZKL_VERSION}"


def _fail_marker(ax, r, field, colour, fails):
    """Draw a run that did not finish at the figure it reached, numbered; returns its y."""
    y = fail_value(r, field)
    if not y:
        return None
    marker = FAMILY_STYLE.get(r["family"], ("^", ":"))[0]
    ax.plot([r["macs"]], [y], marker=marker, ms=9, mfc="white", mec=colour, mew=1.6, ls="none")
    ax.plot([r["macs"]], [y], marker="x", ms=6, color=colour, mew=1.6, ls="none")
    left = r["family"] == "cnn"  # MLP and CNN failures often sit together: number them apart
    ax.annotate(str(fails[id(r)]), (r["macs"], y), textcoords="offset points",
                xytext=(-6 if left else 6, 4), ha="right" if left else "left", fontsize=8,
                color=colour, weight="bold")
    return y


def plot(doc, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    runs = [r for r in doc["runs"] if r["status"] != "skipped"]
    skipped = [r for r in doc["runs"] if r["status"] == "skipped"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    panels = [("prove_seconds", "prove time (s)"), ("prove_peak_mib", "prove peak memory (MiB)")]
    keys = sorted({series_key(r) for r in runs},
                  key=lambda k: (k[0] != "zkinfer", k[1] or "", k[2]))
    # Runs that did not finish, numbered (smallest MACs first) for the note under the panels.
    failed = sorted((r for r in runs if r["status"] != "ok"),
                    key=lambda r: (r["macs"], r["prover"] != "zkinfer", r["layout"] or ""))
    fails = {id(r): i + 1 for i, r in enumerate(failed)}
    for ax, (field, ylabel) in zip(axes, panels):
        for key in keys:
            prover, layout, family = key
            colour = STYLE.get((prover, layout), "tab:gray")
            marker, ls = FAMILY_STYLE.get(family, ("^", ":"))
            pts = sorted((r for r in runs if series_key(r) == key), key=lambda r: r["macs"])
            ok = [(r["macs"], r[field]) for r in pts if r["status"] == "ok" and r.get(field)]
            # Plotted even when empty, so a series whose every run failed has its legend entry.
            ax.plot(*(zip(*ok) if ok else ([], [])), marker=marker, ls=ls, color=colour, ms=6,
                    lw=1.6, label=series_label(*key))
            prev = ok[-1] if ok else None
            for r in pts:
                if r["status"] == "ok" or (ok and r["macs"] < ok[-1][0]):
                    if r["status"] != "ok":  # a failure below a finished size: marker only
                        _fail_marker(ax, r, field, colour, fails)
                    continue
                y = _fail_marker(ax, r, field, colour, fails)
                if y and prev:  # dotted: toward a lower bound, not a measurement
                    ax.plot([prev[0], r["macs"]], [prev[1], y], ls=":", lw=1.2, color=colour)
                if y:
                    prev = (r["macs"], y)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_si))
        ax.yaxis.set_major_formatter(FuncFormatter(_si))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_formatter(FuncFormatter(lambda v, _: _si(v) if _lead(v) in (2, 5) else ""))
        ax.set_xlabel("multiply-accumulates (MACs)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.12)
    handles, labels = axes[0].get_legend_handles_labels()
    if failed:
        handles.append(Line2D([], [], marker="o", ms=9, mfc="white", mec="gray", mew=1.6, ls="none"))
        labels.append("did not finish (numbered below): value reached, a lower bound")
    m = doc["machine"]
    fig.suptitle(f"zkinfer vs EZKL {EZKL_VERSION}: proving cost against model size "
                 f"({m['nproc']} cores, {m['mem_total_gib']:.0f} GiB, {doc['date_utc'][:10]}; "
                 f"{'small sizes only' if doc['options']['sizes'] == 'small' and not doc['options']['only'] else 'models/make_scaling.py'})",
                 fontsize=11)
    notes = [f"{fails[id(r)]}: {_who(r)}, {r['model']} ({r['macs']:,} MACs): "
             f"{FAIL_LABEL.get(r['status'], r['status'])} after {r['wall_s']:.0f} s"
             + (f", {r['stopped_in_s']:.0f} s into {r['stopped_in']}" if r.get("stopped_in")
                and r.get("stopped_in_s") is not None else "")
             + (f" ({r['error'][:60]})" if r.get("error") else "") for r in failed]
    if skipped:
        notes.append("EZKL not run on " + ", ".join(r["model"] for r in skipped)
                     + ": larger than a model of the same family it did not finish")
    if notes:
        fig.text(0.01, 0.01, "\n".join(notes), fontsize=8, va="bottom", ha="left", family="monospace")
    rows = -(-len(handles) // min(4, max(1, len(handles))))
    bottom = 0.045 * rows + 0.02 + 0.026 * len(notes)
    fig.set_size_inches(13, 5.6 / (1 - bottom + 0.16) if notes else 5.6)
    fig.legend(handles, labels, fontsize=9, loc="lower center", ncol=min(4, len(handles)),
               frameon=False, bbox_to_anchor=(0.5, 0.026 * len(notes) / (1 if not notes else 1)))
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(png, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------- table
def _f(v, digits=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def table(doc):
    rows = ["| model | MACs | prover | logrows | rows (zkinfer circuit / EZKL num_rows) | "
            "keygen s | prove s | prove peak MiB | proof B | load1 before | status |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = {m["name"]: i for i, m in enumerate(doc["models"])}
    runs = sorted(doc["runs"], key=lambda r: (r["macs"], order.get(r["model"], 0),
                                              r["prover"] != "zkinfer", r["layout"] or ""))
    for r in runs:
        who = f"zkinfer {r['layout']}" if r["prover"] == "zkinfer" else "EZKL"
        rws = r.get("circuit_rows") if r["prover"] == "zkinfer" else r.get("num_rows")
        status = r["status"]
        if status == "skipped":
            status += f": {r['reason']}"
        elif status != "ok":
            status += f" after {r['wall_s']:.0f} s"
            if r.get("stopped_in"):
                status += f", {r['stopped_in_s']:.0f} s into {r['stopped_in']}" \
                    if r.get("stopped_in_s") is not None else f" in {r['stopped_in']}"
            if not r.get("prove_peak_mib"):
                status += f" (tree peak {r['peak_tree_mib']:.0f} MiB)"
        rows.append(f"| {r['model']} | {r['macs']:,} | {who} | {_f(r.get('logrows'))} | {_f(rws)} | "
                    f"{_f(r.get('keygen_seconds'))} | {_f(r.get('prove_seconds'))} | "
                    f"{_f(r.get('prove_peak_mib'), 0)} | {_f(r.get('proof_bytes'))} | "
                    f"{_f(r.get('load1_before'))} | {status} |")
    # Ratios: zkinfer prove time / EZKL prove time, per model, when both finished.
    layouts = doc["options"]["layouts"]
    have_ezkl = any(r["prover"] == "ezkl" for r in doc["runs"])
    if have_ezkl and layouts:
        rows += ["", "| model | MACs | " + " | ".join(f"{l} / EZKL prove s" for l in layouts)
                 + " | " + " | ".join(f"{l} / EZKL peak MiB" for l in layouts) + " |",
                 "|---|---|" + "---|" * (2 * len(layouts))]
        for m in doc["models"]:
            by = {(r["prover"], r["layout"]): r for r in doc["runs"] if r["model"] == m["name"]}
            ez = by.get(("ezkl", None))

            def ratio(l, f):
                z = by.get(("zkinfer", l))
                if not (z and ez and z["status"] == "ok" and ez["status"] == "ok"
                        and z.get(f) and ez.get(f)):
                    return "–"
                return f"{z[f] / ez[f]:.2f}"
            rows.append(f"| {m['name']} | {m['macs']:,} | "
                        + " | ".join(ratio(l, "prove_seconds") for l in layouts) + " | "
                        + " | ".join(ratio(l, "prove_peak_mib") for l in layouts) + " |")
    m = doc["machine"]
    head = (f"Run of {doc['date_utc']} on {m['nproc']} cores ({m['cpu_model']}), "
            f"{m['mem_total_gib']:.1f} GiB RAM; zkinfer {doc['zkinfer']['git']['commit'][:10]}"
            f"{' (+ uncommitted changes)' if doc['zkinfer']['git']['dirty_tracked_files'] else ''}, "
            f"EZKL {EZKL_VERSION}; load1 {doc['load1_start']} at start, {doc.get('load1_end')} "
            f"at end; {doc['wall_s'] / 60:.1f} min in all. Command: `{doc['command']}`.")
    return head + "\n\n" + "\n".join(rows) + "\n"


def update_doc_table(doc, md):
    if not md.exists():
        return False
    text = md.read_text()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        return False
    pre, rest = text.split(TABLE_BEGIN, 1)
    _, post = rest.split(TABLE_END, 1)
    md.write_text(pre + TABLE_BEGIN + "\n" + table(doc) + TABLE_END + post)
    return True


# ----------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", choices=["all", "small"], default="all",
                    help="all: every model of models/make_scaling.py; small: the 3 smallest")
    ap.add_argument("--only", help="comma-separated model names (mlp_wNNNN, cnn_cNN), any size")
    ap.add_argument("--layouts", default="tall,wide", help="zkinfer layouts (default tall,wide)")
    ap.add_argument("--skip-ezkl", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "docs"), help="where scaling.json/.png go")
    ap.add_argument("--work", default=str(ROOT / "target" / "scaling"),
                    help="models, artifacts and logs (default target/scaling)")
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "zkinfer"))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--cnn-input", choices=["3x16x16", "1x28x28"], default="3x16x16")
    ap.add_argument("--ezkl-timeout", type=float, default=1200.0, help="seconds per model (20 min)")
    ap.add_argument("--zkinfer-timeout", type=float, default=3600.0, help="seconds per bench")
    ap.add_argument("--mem-limit-gib", type=float, default=24.0,
                    help="RSS limit of a command's process tree (capped at 95%% of RAM)")
    ap.add_argument("--ezkl-inputs", type=int, default=1,
                    help="inputs EZKL calibrates on and proves, each once (default 1)")
    ap.add_argument("--ezkl-max-logrows", type=int, default=24,
                    help="stop EZKL when its calibrated settings need more logrows (default 24)")
    ap.add_argument("--ezkl-all-sizes", action="store_true",
                    help="run EZKL on every size, even above one of the same family it did not "
                         "finish within the limits (default: those are recorded as skipped)")
    ap.add_argument("--keep-keys", action="store_true", help="keep pk.bin / pk.key files")
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw OUT/scaling.png and the doc table from OUT/scaling.json")
    opt = ap.parse_args()
    out = Path(opt.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path, md_path = out / "scaling.json", out / "scaling.png", out / "scaling.md"

    if opt.plot_only:
        doc = json.loads(json_path.read_text())
        plot(doc, png_path)
        log(f"wrote {png_path}" + (f", table in {md_path}" if update_doc_table(doc, md_path) else ""))
        return
    layouts = [l.strip() for l in opt.layouts.split(",") if l.strip()]
    if any(l not in ("tall", "wide") for l in layouts):
        ap.error("--layouts takes tall and/or wide")
    if opt.ezkl_inputs < 1:
        ap.error("--ezkl-inputs must be >= 1")
    if not opt.skip_ezkl and not PEER.is_file():
        ap.error(f"{PEER} not found (or pass --skip-ezkl)")
    work = Path(opt.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    mem_total = mem_total_bytes() or 2**62
    mem_limit = min(opt.mem_limit_gib * 2**30, 0.95 * mem_total)

    gen = load_generator()
    names = gen.select(opt.sizes, opt.only, opt.cnn_input)
    log(f"generating {len(names)} models into {work / 'models'}")
    metas = [gen.generate(n, str(work / "models"), opt.seed, gen.N_INPUTS, opt.cnn_input, quiet=True)
             for n in names]
    metas.sort(key=lambda m: (m["macs"], m["name"]))
    binary, bin_info = snapshot_binary(Path(opt.bin), work)

    t0 = time.monotonic()
    doc = {
        "generated_by": "scripts/scaling_curve.py",
        "command": "python3 scripts/scaling_curve.py " + " ".join(sys.argv[1:]),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(), "load1_start": load1(),
        "zkinfer": {"binary": bin_info, "git": git_info()},
        "ezkl": None if opt.skip_ezkl else {
            "version": EZKL_VERSION, "script": str(PEER.relative_to(ROOT.parent)),
            "options": f"--runs 1 --samples {opt.ezkl_inputs}, target resources, "
                       f"first {opt.ezkl_inputs} input(s) of each model"},
        "options": {"sizes": opt.sizes, "only": opt.only, "layouts": layouts,
                    "skip_ezkl": opt.skip_ezkl, "seed": opt.seed, "cnn_input": opt.cnn_input,
                    "ezkl_timeout_s": opt.ezkl_timeout, "ezkl_all_sizes": opt.ezkl_all_sizes,
                    "ezkl_max_logrows": opt.ezkl_max_logrows, "zkinfer_timeout_s": opt.zkinfer_timeout,
                    "mem_limit_gib": round(mem_limit / 2**30, 2), "ezkl_inputs": opt.ezkl_inputs,
                    "work": str(work)},
        "models": metas, "runs": [],
    }
    log(f"{len(metas)} models, layouts {layouts}, EZKL {'skipped' if opt.skip_ezkl else 'on'}; "
        f"memory limit {mem_limit / 2**30:.1f} GiB; zkinfer {binary.name}")

    def save():
        doc["load1_end"] = load1()
        doc["wall_s"] = round(time.monotonic() - t0, 1)
        tmp = json_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(json_path)

    ezkl_stopped = {}  # family -> the EZKL run the watchdog stopped
    for meta in metas:
        mdir = work / "models" / meta["name"]
        for layout in layouts:
            doc["runs"].append(run_zkinfer(binary, mdir, meta, layout, work, opt, mem_limit))
            save()
        if not opt.skip_ezkl:
            stop = ezkl_stopped.get(meta["family"])
            if stop and not opt.ezkl_all_sizes:
                rec = skipped_run(meta, stop)
                log(f"  EZKL: skipped ({rec['reason']})")
            else:
                rec = run_ezkl(mdir, meta, work, opt, mem_limit)
                if rec["status"] in ("timeout", "memory_limit", "too_large"):
                    ezkl_stopped[meta["family"]] = rec
            doc["runs"].append(rec)
            save()
    save()
    plot(doc, png_path)
    updated = update_doc_table(doc, md_path)
    log(f"wrote {json_path}, {png_path}" + (f", table in {md_path}" if updated else "")
        + f"; {doc['wall_s'] / 60:.1f} min")
    print(table(doc))


if __name__ == "__main__":
    main()
