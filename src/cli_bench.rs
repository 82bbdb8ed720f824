//! `zkinfer bench`: compile, set up, prove and verify one model or a directory of models,
//! and record what it cost (rows, seconds, peak memory, bytes, gas) as JSON and as a
//! Markdown table. Progress goes to stderr; the table to stdout.

use crate::cli_args::BenchArgs;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use zkinfer::artifacts::{write_json, ModelDir};
use zkinfer::input::read_input_file;
use zkinfer::{Layout, Visibility};

/// One model's figures.
#[derive(Debug, Serialize)]
struct Record {
    model: String,
    layout: Layout,
    backend: &'static str,
    logrows: u32,
    rows: usize,
    circuit_rows: usize,
    macs: usize,
    circuit_rows_per_mac: Option<f64>,
    /// Circuit rows per kind of op (`linear`, `rescale`, …): where the rows go; a split
    /// circuit's unit column, beside the ops' column, is its own entry.
    circuit_rows_by_op: BTreeMap<&'static str, usize>,
    compile_seconds: f64,
    keygen_seconds: f64,
    prove_seconds: f64,
    verify_seconds: f64,
    keygen_peak_mib: Option<f64>,
    prove_peak_mib: Option<f64>,
    proof_bytes: usize,
    pk_bytes: u64,
    vk_bytes: u64,
    verified: bool,
    gas: Option<u64>,
    /// Why there is no gas figure, when `--evm` was asked for.
    evm_error: Option<String>,
    max_abs_error: Option<f64>,
}

/// Peak resident memory of this process since the last [`reset_peak`], from
/// `/proc/self/status` (`None` where there is no procfs).
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak resident memory to the current one (Linux: `clear_refs` value 5), so each
/// phase's peak is its own; `false` where that is not possible (the peaks then accumulate).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The models a bench path names: an ONNX file, a model directory (holding `model.onnx`), or
/// a directory of model directories.
fn models(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if path.join("model.onnx").is_file() {
        return Ok(vec![path.join("model.onnx")]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}: not an ONNX file or a directory", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path().join("model.onnx")))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    if found.is_empty() {
        bail!(
            "{}: no model.onnx in it or in its subdirectories",
            path.display()
        );
    }
    Ok(found)
}

/// The sorted JSON files of `dir`.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A model's name: its directory's, or the file stem of a lone ONNX file.
fn model_name(onnx: &Path) -> String {
    let stem = onnx.file_stem().map(|s| s.to_string_lossy().into_owned());
    match (stem.as_deref(), onnx.parent().and_then(Path::file_name)) {
        (Some("model"), Some(dir)) => dir.to_string_lossy().into_owned(),
        (Some(s), _) => s.to_string(),
        _ => onnx.display().to_string(),
    }
}

/// `zkinfer bench`; with `--json` the records go to stdout as one JSON array instead of
/// the table.
pub fn run(json: bool, args: &BenchArgs) -> Result<i32> {
    let cuda = args.backend.cuda()?;
    std::fs::create_dir_all(&args.out).with_context(|| args.out.display().to_string())?;
    let mut records = Vec::new();
    let mut failed = false;
    for onnx in models(&args.path)? {
        let name = model_name(&onnx);
        eprintln!("bench: {name}");
        let r = bench_one(args, &onnx, &name, cuda.as_ref())
            .with_context(|| format!("model {name} ({})", onnx.display()))?;
        failed |= !r.verified;
        eprintln!(
            "bench: {name}: logrows {}, prove {:.1} s, verified {}",
            r.logrows, r.prove_seconds, r.verified
        );
        records.push(r);
        // Written after every model, so a long run leaves what it measured.
        write_json(&args.out.join("bench.json"), &records)?;
        std::fs::write(args.out.join("bench.md"), markdown(&records))
            .with_context(|| args.out.join("bench.md").display().to_string())?;
    }
    if json {
        say!(
            "{}",
            serde_json::to_string(&records).expect("records serialize")
        );
    } else {
        say!("{}", markdown(&records).trim_end());
    }
    Ok(i32::from(failed))
}

fn bench_one(
    args: &BenchArgs,
    onnx: &Path,
    name: &str,
    cuda: Option<&zkinfer::CudaProver>,
) -> Result<Record> {
    let base = onnx.parent().unwrap_or(Path::new("."));
    let inputs = json_files(&base.join("inputs"));
    let Some(first) = inputs.first() else {
        bail!("no input JSON files in {}", base.join("inputs").display());
    };
    let model = args.model_args.load(onnx)?;
    let input = read_input_file(first)?.values;
    let samples = inputs
        .iter()
        .take(args.calibration_samples)
        .map(|p| Ok(read_input_file(p)?.values))
        .collect::<Result<Vec<_>>>()?;
    let dir = args.out.join(name);
    let d = ModelDir::new(&dir)?;

    let t = Instant::now();
    let quant = args.model_args.quant(&model, &samples)?;
    let settings = zkinfer::compile_in(
        &model,
        &samples,
        quant,
        Visibility::default(),
        args.layout.layout,
    )?;
    let compile_seconds = t.elapsed().as_secs_f64();
    d.write_compiled(&settings, onnx)?;
    let circuit_rows_by_op = settings
        .circuit(&settings.quantize_inputs(&input)?)?
        .circuit_rows_by_op();
    let by_op: Vec<String> = circuit_rows_by_op
        .iter()
        .map(|(op, rows)| format!("{op} {rows}"))
        .collect();
    eprintln!(
        "bench: {name}: compiled, logrows {} ({} circuit rows: {}); setting up",
        settings.logrows,
        settings.circuit_rows,
        by_op.join(", ")
    );

    reset_peak();
    let t = Instant::now();
    let keys = zkinfer::setup(&settings, None, &zkinfer::default_cache_dir())?;
    let keygen_seconds = t.elapsed().as_secs_f64();
    let keygen_peak_mib = peak_mib();
    d.write_keys(&settings, &keys)?;
    eprintln!("bench: {name}: keys in {keygen_seconds:.1} s; proving");

    reset_peak();
    let proof = match cuda {
        None => zkinfer::prove(&settings, &keys, &input)?,
        Some(prover) => {
            drop(keys);
            prover.prove(&dir, &settings, &input)?.0
        }
    };
    let prove_peak_mib = peak_mib().filter(|_| cuda.is_none());
    // The proof beside the keys: `verify`, `verify-evm` and `calldata` take the directory.
    write_json(&dir.join("proof.json"), &proof)?;
    let (srs, vk) = d.verifier(&settings)?;
    let t = Instant::now();
    let verdict = zkinfer::verify(&settings, &srs, &vk, &proof)?;
    let verify_seconds = t.elapsed().as_secs_f64();
    let (gas, evm_error) = if args.evm {
        eprintln!("bench: {name}: verifying in the EVM");
        // A verifier that cannot be deployed (a wide layout's is over the contract size
        // limit) is recorded, not fatal: the other figures stand.
        match zkinfer::evm::create_verifier(&settings, &srs, &vk, false)
            .and_then(|v| zkinfer::evm::verify_evm(&v, &proof))
        {
            Ok(o) if o.verified => (Some(o.gas), None),
            Ok(_) => (
                None,
                Some("the EVM verifier rejected the proof".to_string()),
            ),
            Err(e) => {
                eprintln!("bench: {name}: no EVM figure: {e}");
                (None, Some(e.to_string()))
            }
        }
    } else {
        (None, None)
    };
    let reference = base.join("ref_outputs").join(
        first
            .file_name()
            .map(|f| f.to_string_lossy().replace("input", "output"))
            .unwrap_or_default(),
    );
    let max_abs_error = verdict
        .clone()
        .verified()
        .and_then(|v| max_abs_error(&v.outputs, &reference));
    let size = |f: &str| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len());
    let macs = settings.graph.macs();
    Ok(Record {
        model: name.to_string(),
        layout: settings.graph.layout,
        backend: if cuda.is_some() { "cuda" } else { "cpu" },
        logrows: settings.logrows,
        rows: settings.rows,
        circuit_rows: settings.circuit_rows,
        macs,
        circuit_rows_per_mac: (macs > 0).then(|| settings.circuit_rows as f64 / macs as f64),
        circuit_rows_by_op,
        compile_seconds,
        keygen_seconds,
        prove_seconds: proof.prove_seconds,
        verify_seconds,
        keygen_peak_mib,
        prove_peak_mib,
        proof_bytes: proof.proof.len() / 2,
        pk_bytes: size("pk.bin"),
        vk_bytes: size("vk.bin"),
        verified: verdict.is_verified(),
        gas,
        evm_error,
        max_abs_error,
    })
}

/// Max abs difference of `outputs` (flattened) from a reference output file (`output`, or
/// the `data` of each of `outputs`), if the file is there and has as many values.
fn max_abs_error(outputs: &[f64], reference: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(reference).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let numbers = |x: &serde_json::Value| -> Vec<f64> {
        fn walk(x: &serde_json::Value, out: &mut Vec<f64>) {
            match x {
                serde_json::Value::Number(n) => out.extend(n.as_f64()),
                serde_json::Value::Array(a) => a.iter().for_each(|y| walk(y, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(x, &mut out);
        out
    };
    let want: Vec<f64> = match v.get("outputs").and_then(|o| o.as_array()) {
        Some(all) => all.iter().flat_map(|o| numbers(&o["data"])).collect(),
        None => numbers(v.get("output")?),
    };
    (outputs.len() == want.len()).then(|| {
        outputs
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    })
}

fn markdown(records: &[Record]) -> String {
    let opt = |v: Option<f64>, digits: usize| v.map_or("–".into(), |v| format!("{v:.digits$}"));
    let mut s = String::from(
        "| model | layout | backend | logrows | circuit rows | MACs | rows/MAC | keygen s | \
         prove s | verify s | keygen peak MiB | prove peak MiB | proof B | pk B | vk B | gas | \
         max abs err | verified |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\
         ---|---|---|\n",
    );
    for r in records {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.2} | {} | {} | {} | {} | {} \
             | {} | {} | {} |\n",
            r.model,
            r.layout,
            r.backend,
            r.logrows,
            r.circuit_rows,
            r.macs,
            opt(r.circuit_rows_per_mac, 3),
            r.keygen_seconds,
            r.prove_seconds,
            r.verify_seconds,
            opt(r.keygen_peak_mib, 0),
            opt(r.prove_peak_mib, 0),
            r.proof_bytes,
            r.pk_bytes,
            r.vk_bytes,
            r.gas.map_or("–".into(), |g| g.to_string()),
            r.max_abs_error.map_or("–".into(), |e| format!("{e:.2e}")),
            r.verified,
        );
    }
    s
}
