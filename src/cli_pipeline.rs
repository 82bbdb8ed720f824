//! The pipeline commands: `compile`, `prove`, `verify`'s verdict and `run` (compile, setup,
//! prove and verify in one go).

use crate::cli_args::RunArgs;
use crate::cli_backend;
use crate::cli_model::ModelArgs;
use crate::{read_model_inputs, report, step, warn_ignored};
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use zkinfer::artifacts::{check_output_dir, check_output_file, write_json, ModelDir};
use zkinfer::{input::read_inputs, Visibility};

/// `zkinfer compile`: calibrates (from `--calibrated` or the `--calibration` samples),
/// quantizes and sizes the model into `out`.
pub fn compile(
    j: bool,
    model: &Path,
    (calibration, calibrated): (&[PathBuf], Option<&Path>),
    out: &Path,
    vis: Visibility,
    model_args: &ModelArgs,
    layout: zkinfer::Layout,
) -> Result<i32> {
    check_output_dir(out).context("--out")?;
    let m = step(j, "import", || Ok(model_args.load(model)))?.0?;
    let (samples, quant) = match calibrated {
        Some(path) => {
            let c = zkinfer::calibration::read_calibration(path, &m)?;
            let quant = model_args.apply(c.quant);
            (c.samples, Some(quant))
        }
        None if calibration.is_empty() && m.float().is_some() => bail!(
            "compile needs calibration samples to choose the fixed point of a float \
             model: `zkinfer calibrate MODEL --data DIR` then `compile --calibrated \
             calibration.json`, or `--calibration FILE` (repeatable); `zkinfer run` \
             calibrates on the input it proves"
        ),
        None => {
            let samples = calibration
                .iter()
                .map(|p| read_inputs(p))
                .collect::<zkinfer::Result<Vec<_>>>()?;
            let quant = model_args.quant(&m, &samples)?;
            (samples, quant)
        }
    };
    let settings = step(j, "compile", || {
        zkinfer::compile_in(&m, &samples, quant, vis, layout)
    })?
    .0;
    ModelDir::new(out)?.write_compiled(&settings, model)?;
    report(
        j,
        json!({ "logrows": settings.logrows, "rows": settings.rows, "circuit_rows": settings.circuit_rows, "quant": settings.quant, "dir": out }),
    );
    Ok(0)
}

/// `zkinfer prove`: proves `input` with the keys of `dir` (on the CPU, or through the CUDA
/// prover), writing the proof to `proof`.
pub fn prove(
    j: bool,
    dir: &Path,
    input: &Path,
    proof: &Path,
    backend: &cli_backend::BackendArgs,
) -> Result<i32> {
    if let Some(cuda) = backend.cuda()? {
        return cli_backend::prove(j, dir, input, proof, &cuda);
    }
    let d = ModelDir::open(dir)?;
    let settings = d.settings()?;
    d.setup_info(&settings)?;
    check_output_file(proof).context("--proof")?;
    let inputs = read_model_inputs(input, &settings)?;
    let float = d.model(&settings)?.reference_outputs(&inputs)?;
    let keys = step(j, "load keys", || d.keys(&settings))?.0;
    let p = step(j, "prove", || zkinfer::prove(&settings, &keys, &inputs))?.0;
    write_json(proof, &p)?;
    report(j, proved(&p, &float));
    Ok(0)
}

/// What `prove` reports of a proof: its outputs (dequantized and as integers), the
/// reference's, the proving time and the proof's size.
pub fn proved(p: &zkinfer::Proof, reference: &[f32]) -> serde_json::Value {
    json!({
        "outputs": p.outputs,
        "public_outputs": p.public_outputs,
        "float_outputs": reference,
        "prove_seconds": p.prove_seconds,
        "proof_bytes": p.proof.len() / 2,
    })
}

/// Reports a verdict: what is shown as verified comes from the verdict (the checked public
/// instances), never from the proof file's own fields. Exit 0 verified, 1 rejected.
pub fn verdict(json: bool, verdict: zkinfer::Verdict, insecure_srs: bool) -> Result<i32> {
    match verdict {
        zkinfer::Verdict::Verified(v) => {
            report(
                json,
                json!({
                    "verified": true,
                    "outputs": v.outputs,
                    "public_outputs": v.public_outputs,
                    "insecure_srs": insecure_srs,
                }),
            );
            Ok(0)
        }
        rejected => {
            report(
                json,
                json!({
                    "verified": false,
                    "reason": rejected.reason().unwrap_or("rejected"),
                    "insecure_srs": insecure_srs,
                }),
            );
            Ok(1)
        }
    }
}

fn fmt_vec(v: &serde_json::Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| format!("{:.4}", x.as_f64().unwrap_or(f64::NAN)))
        .collect();
    format!("[{}]", items.join(", "))
}

fn print_run(v: &serde_json::Value) {
    say!(
        "circuit:       {} rows ({} circuit rows), logrows {}",
        v["rows"],
        v["circuit_rows"],
        v["logrows"]
    );
    say!("outputs:       {}", fmt_vec(&v["outputs"]));
    if v["reference"] == "quantized" {
        say!("reference:     {}", fmt_vec(&v["float_outputs"]));
    } else {
        say!("float (tract): {}", fmt_vec(&v["float_outputs"]));
    }
    say!(
        "max abs error: {:.2e}",
        v["max_abs_error"].as_f64().unwrap_or(f64::NAN)
    );
    say!(
        "prove {:.2} s, verify {:.3} s, proof {} bytes",
        v["prove_seconds"].as_f64().unwrap_or(0.0),
        v["verify_seconds"].as_f64().unwrap_or(0.0),
        v["proof_bytes"]
    );
    match v["srs"]["kind"].as_str() {
        Some("dev_insecure") => {
            say!("srs:           development SRS (INSECURE: for testing only)")
        }
        Some("ceremony") => say!(
            "srs:           ceremony {} (2^{} powers, contributions: {})",
            v["srs"]["file"].as_str().unwrap_or("?"),
            v["srs"]["power"],
            v["srs"]["contributions"]
        ),
        _ => {}
    }
    say!("verified:      {}", v["verified"]);
}

/// `zkinfer run`.
pub fn run(j: bool, args: &RunArgs) -> Result<i32> {
    let RunArgs {
        backend,
        model_args,
        public_input,
        ..
    } = args;
    let public_input = *public_input;
    let (model, input) = (args.model.as_deref(), args.input.as_deref());
    let (out, srs) = (args.out.as_deref(), args.srs.as_deref());
    if let Some(dir) = out {
        check_output_dir(dir).context("--out")?;
    }
    let (m, file) = match (model, input) {
        (Some(m), Some(i)) => (model_args.load(m)?, zkinfer::input::read_input_file(i)?),
        (None, None) => (
            model_args.load_bytes(zkinfer::bundled::MLP_DIGITS_ONNX)?,
            zkinfer::input::parse_input_file(zkinfer::bundled::MLP_DIGITS_INPUT, "bundled sample")?,
        ),
        _ => bail!("give both MODEL and --input, or neither (the bundled mlp_digits)"),
    };
    file.check_shape(&zkinfer::input::model_inputs(&m)?)?;
    warn_ignored(&file);
    let inputs = file.values;
    let vis = Visibility { public_input };
    let samples = std::slice::from_ref(&inputs);
    let quant = model_args.quant(&m, samples)?;
    let (settings, compile_s) = step(j, "compile", || {
        zkinfer::compile_in(&m, samples, quant, vis, args.layout.layout)
    })?;
    let (keys, setup_s) = step(j, "setup", || {
        zkinfer::setup(&settings, srs, &zkinfer::default_cache_dir())
    })?;
    if let Some(dir) = out {
        // What `compile` then `setup` write, so that every later command takes the directory.
        let d = ModelDir::new(dir)?;
        match model {
            Some(path) => d.write_compiled(&settings, path)?,
            None => d.write_compiled_bytes(&settings, zkinfer::bundled::MLP_DIGITS_ONNX)?,
        }
        d.write_keys(&settings, &keys)?;
    }
    let (proof, cuda_report) = match backend.cuda()? {
        None => (
            step(j, "prove", || zkinfer::prove(&settings, &keys, &inputs))?.0,
            None,
        ),
        Some(cuda) => {
            let (p, r) = cli_backend::prove_run(j, out, &settings, &keys, &inputs, &cuda)?;
            (p, Some(r))
        }
    };
    if let Some(dir) = out {
        write_json(&dir.join("proof.json"), &proof)?;
    }
    let (verdict, verify_s) = step(j, "verify", || {
        zkinfer::verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
    })?;
    let float = m.reference_outputs(&inputs)?;
    // Outputs shown are the verified ones; a rejected proof shows none.
    let outputs = verdict.clone().verified().map(|v| v.outputs);
    let max_abs_err = outputs
        .iter()
        .flatten()
        .zip(&float)
        .map(|(a, b)| (a - f64::from(*b)).abs())
        .fold(0f64, f64::max);
    let value = json!({
        "verified": verdict.is_verified(),
        "outputs": outputs,
        "float_outputs": float,
        "reference": if m.float().is_some() { "float" } else { "quantized" },
        "max_abs_error": max_abs_err,
        "logrows": settings.logrows,
        "rows": settings.rows,
        "circuit_rows": settings.circuit_rows,
        "compile_seconds": compile_s,
        "setup_seconds": setup_s,
        "prove_seconds": proof.prove_seconds,
        "verify_seconds": verify_s,
        "proof_bytes": proof.proof.len() / 2,
        "srs": proof.srs,
    });
    let mut value = value;
    if let Some(r) = cuda_report {
        value["backend"] = json!("cuda");
        value["zero_knowledge"] = json!(false);
        value["cuda"] = json!(r);
    }
    if j {
        report(true, value);
    } else {
        print_run(&value);
    }
    if let Some(reason) = verdict.reason() {
        if !j {
            eprintln!("verification failed: {reason}");
        }
        return Ok(1);
    }
    Ok(0)
}
