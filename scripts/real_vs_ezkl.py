#!/usr/bin/env python3
"""zkinfer and EZKL side by side on the real-size models (issue 14), in one run.

For each model directory (model.onnx, inputs/, ref_outputs/; default: models/real/cnn_cifar,
cnn_cifar_qdq and gpt_tiny, made by models/make_real.py): `zkinfer bench` in each layout asked
for, then EZKL through ../shared/peer/ezkl_bench.sh (--runs 1 --samples 1), every command
under scripts/scaling_curve.py's watchdog: a wall-clock limit (EZKL: --ezkl-timeout, default
20 min, not counting the making of a new SRS) and a memory limit on the process tree
(--mem-limit-gib, default 24, capped at 95% of RAM). A run stopped by either is recorded with
the step it was in and what it had measured by then; EZKL is stopped as "too_large" when its
calibration asks for more than 2^--ezkl-max-logrows rows (default 24). --layouts "" runs EZKL
alone.

Writes OUT/real_vs_ezkl.json (after every run) and prints the Markdown table of
scaling_curve.py, with the zkinfer / EZKL ratios where both finished.

Usage: python3 scripts/real_vs_ezkl.py [MODEL_DIR ...] [--layouts wide] [--skip-ezkl]
           [--out target/real] [--ezkl-timeout S] [--zkinfer-timeout S] [--mem-limit-gib G]
           [--ezkl-max-logrows L]
"""
import argparse
import datetime
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = ["cnn_cifar", "cnn_cifar_qdq", "gpt_tiny"]


def load_scaling():
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location("scaling_curve", ROOT / "scripts" / "scaling_curve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", help="model directories (default: models/real/{%s})"
                    % ",".join(DEFAULT_MODELS))
    ap.add_argument("--layouts", default="wide", help="zkinfer layouts (default wide)")
    ap.add_argument("--skip-ezkl", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "target" / "real"))
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "zkinfer"))
    ap.add_argument("--ezkl-timeout", type=float, default=1200.0)
    ap.add_argument("--zkinfer-timeout", type=float, default=3600.0)
    ap.add_argument("--mem-limit-gib", type=float, default=24.0)
    ap.add_argument("--ezkl-max-logrows", type=int, default=24,
                    help="stop EZKL when its calibrated settings need more logrows (default 24)")
    opt = ap.parse_args()
    opt.ezkl_inputs, opt.keep_keys = 1, False  # what run_zkinfer / run_ezkl read
    sc = load_scaling()
    layouts = [l.strip() for l in opt.layouts.split(",") if l.strip()]
    if any(l not in ("tall", "wide") for l in layouts):
        ap.error("--layouts takes tall and/or wide")
    dirs = [Path(m).resolve() for m in opt.models] or [ROOT / "models" / "real" / m for m in DEFAULT_MODELS]
    for d in dirs:
        if not (d / "model.onnx").is_file():
            ap.error(f"{d}: no model.onnx (python3 models/make_real.py writes models/real/)")
    work = Path(opt.out).resolve()
    work.mkdir(parents=True, exist_ok=True)
    mem_limit = min(opt.mem_limit_gib * 2**30, 0.95 * (sc.mem_total_bytes() or 2**62))
    binary, bin_info = sc.snapshot_binary(Path(opt.bin), work)
    t0 = time.monotonic()
    doc = {"generated_by": "scripts/real_vs_ezkl.py",
           "command": "python3 scripts/real_vs_ezkl.py " + " ".join(sys.argv[1:]),
           "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": sc.machine_info(), "load1_start": sc.load1(),
           "zkinfer": {"binary": bin_info, "git": sc.git_info()},
           "options": {"layouts": layouts, "skip_ezkl": opt.skip_ezkl,
                       "ezkl_timeout_s": opt.ezkl_timeout, "zkinfer_timeout_s": opt.zkinfer_timeout,
                       "ezkl_max_logrows": opt.ezkl_max_logrows,
                       "mem_limit_gib": round(mem_limit / 2**30, 2)},
           "models": [], "runs": []}
    out_json = work / "real_vs_ezkl.json"

    def save():
        doc["load1_end"] = sc.load1()
        doc["wall_s"] = round(time.monotonic() - t0, 1)
        out_json.write_text(json.dumps(doc, indent=1) + "\n")

    for d in dirs:
        # MACs: the graph's, as zkinfer bench counts them (known after its first run).
        meta = {"name": d.name, "family": "real", "macs": 0}
        doc["models"].append(meta)
        for layout in layouts:
            rec = sc.run_zkinfer(binary, d, meta, layout, work, opt, mem_limit)
            meta["macs"] = meta["macs"] or rec.get("macs_zkinfer") or 0
            rec["macs"] = meta["macs"]
            doc["runs"].append(rec)
            save()
        if not opt.skip_ezkl:
            rec = sc.run_ezkl(d, meta, work, opt, mem_limit)
            doc["runs"].append(rec)
            save()
    save()
    print(sc.table(doc))
    sc.log(f"wrote {out_json}; {doc['wall_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
