//! The ONNX backend node tests (`tests/data/onnx-conformance`, copied from the onnx 1.22.0
//! wheel, Apache-2.0): import → quantize (calibrated on the case's input) → MockProver →
//! compare the dequantized output with the expected one.
//!
//! Ops whose extra inputs are parameters (Conv, ConvTranspose, Gemm, MatMul, Clip bounds, Pad
//! value, BatchNormalization, LayerNormalization) get those inputs folded in as constants, the
//! way a real model carries its weights; the first input stays the proven (private) input.
//! Integer inputs (shapes, axes, indices) are always folded.
//!
//! The first passing-candidate case of every op is also proven for real (keygen, prove,
//! verify, and a changed output rejected).
//!
//! Tolerance, from the chosen fixed point: `64·2^-act_scale + 1e-3·|expected|` (rounding of
//! inputs and weights at `2^-act_scale` and `2^-16`, accumulated over the op's fan-in).
//!
//! `ZKINFER_WRITE_COVERAGE=1 cargo test --release --test conformance` rewrites
//! `docs/coverage.md`. The test fails if fewer cases pass than [`BASELINE`].

mod common;

use common::root;
use halo2_axiom::dev::MockProver;
use std::collections::BTreeMap;
use std::path::Path;
use zkinfer::{compile, Visibility};
use zkinfer_circuits::testing::check_no_free_cells;

/// Cases that passed when this number was last raised; it only goes up.
const BASELINE: usize = 339;

/// Prefix of a case's failure reason when the free-cell guard found something.
const FREE_CELL: &str = "FREE CELL";

fn run_case(dir: &Path, op: &str, real_proof: bool) -> Result<(), String> {
    let common::Case {
        model,
        inputs: floats,
        expected,
    } = common::load_case(dir, op)?;
    let settings = compile(&model, std::slice::from_ref(&floats), Visibility::default())
        .map_err(|e| e.to_string())?;
    let q = settings
        .quantize_inputs(&floats)
        .map_err(|e| e.to_string())?;
    let circuit = settings.circuit(&q).map_err(|e| e.to_string())?;
    let prover = MockProver::run(settings.logrows, &circuit, vec![circuit.instances()])
        .map_err(|e| format!("{e:?}"))?;
    if let Err(f) = prover.verify() {
        return Err(format!(
            "circuit not satisfied: {} failures, first {:?}",
            f.len(),
            f[0]
        ));
    }
    // The free-cell guard: a cell the prover could change unnoticed is a soundness bug,
    // never a coverage gap (checked apart from the baseline below).
    check_no_free_cells(&circuit).map_err(|e| format!("{FREE_CELL}: {e}"))?;
    if real_proof {
        // One case per op also gets a real proof, verified (and rejected with an output changed).
        let keys = zkinfer::setup(&settings, None, &zkinfer::default_cache_dir())
            .map_err(|e| e.to_string())?;
        let proof = zkinfer::prove(&settings, &keys, &floats).map_err(|e| e.to_string())?;
        let verdict = zkinfer::verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
            .map_err(|e| format!("real proof: {e}"))?;
        if let Some(reason) = verdict.reason() {
            return Err(format!("real proof rejected: {reason}"));
        }
        let mut forged = proof.clone();
        // (A zero-size output has nothing to change.)
        if let Some(first) = forged.public_outputs.first_mut() {
            *first += 1;
            let verdict = zkinfer::verify(&settings, &keys.srs, keys.pk.get_vk(), &forged)
                .map_err(|e| e.to_string())?;
            if verdict.is_verified() {
                return Err("a changed output verified".into());
            }
        }
    }
    let ints: Vec<i64> = settings
        .graph
        .outputs_of(circuit.values())
        .iter()
        .flat_map(|t| t.data.iter().map(|v| *v as i64))
        .collect();
    let got = settings.dequantize_outputs(&ints);
    if got.len() < expected.len() {
        return Err(format!(
            "{} outputs, expected {}",
            got.len(),
            expected.len()
        ));
    }
    let base = 64.0 / 2f64.powi(settings.quant.expect("a float model").act_scale);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        let tol = base + 1e-3 * f64::from(e.abs());
        if (g - f64::from(*e)).abs() > tol {
            return Err(format!(
                "output[{i}] = {g:.6}, expected {e:.6} (tolerance {tol:.2e})"
            ));
        }
    }
    Ok(())
}

/// Per op: cases, passing, and the failing `(test, reason)` pairs.
#[derive(Default)]
struct OpTally {
    cases: usize,
    passing: usize,
    failures: Vec<(String, String)>,
}

#[test]
fn conformance_cases() {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("index.json")).unwrap()).unwrap();
    let mut by_op: BTreeMap<String, OpTally> = BTreeMap::new();
    let mut passed = 0;
    for case in index["cases"].as_array().unwrap() {
        let test = case["test"].as_str().unwrap();
        let op = case["op"].as_str().unwrap().to_string();
        let first_of_op = by_op.get(&op).is_none_or(|t| t.passing == 0);
        let result = std::panic::catch_unwind(|| run_case(&root().join(test), &op, first_of_op))
            .unwrap_or_else(|_| Err("panicked".into()));
        let entry = by_op.entry(op).or_default();
        entry.cases += 1;
        match result {
            Ok(()) => {
                entry.passing += 1;
                passed += 1;
            }
            Err(reason) => entry.failures.push((
                test.to_string(),
                reason.lines().next().unwrap_or("").to_string(),
            )),
        }
    }
    let free: Vec<String> = by_op
        .values()
        .flat_map(|t| &t.failures)
        .filter(|(_, reason)| reason.starts_with(FREE_CELL))
        .map(|(test, reason)| format!("{test}: {reason}"))
        .collect();
    assert!(free.is_empty(), "free cells:\n{}", free.join("\n"));
    let total: usize = by_op.values().map(|e| e.cases).sum();
    let mut md = format!(
        "# ONNX conformance coverage\n\nGenerated by `ZKINFER_WRITE_COVERAGE=1 cargo test --release --test conformance`\n\
         from the {total} ONNX backend node tests in `tests/data/onnx-conformance` (onnx 1.22.0).\n\
         Each case: import, quantize (calibrated on its input), MockProver, compare the dequantized\n\
         first output within `64·2^-act_scale + 1e-3·|expected|`.\n\n**{passed} of {total} pass.**\n\n\
         | op | cases | passing | notes |\n|---|---|---|---|\n"
    );
    for (op, t) in &by_op {
        let (n, ok) = (t.cases, t.passing);
        let note = t
            .failures
            .first()
            .map(|f| f.1.replace('|', "/"))
            .unwrap_or_default();
        md.push_str(&format!(
            "| {op} | {n} | {ok} | {} |\n",
            if ok == n { String::new() } else { note }
        ));
    }
    md.push_str("\n## Failing cases\n\n");
    for (op, t) in &by_op {
        for (test, reason) in &t.failures {
            md.push_str(&format!(
                "- `{test}` ({op}): {}\n",
                reason.replace('|', "/")
            ));
        }
    }
    if std::env::var_os("ZKINFER_WRITE_COVERAGE").is_some() {
        std::fs::write(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/coverage.md"),
            &md,
        )
        .unwrap();
    }
    eprintln!("conformance: {passed} of {total} pass");
    assert!(
        passed >= BASELINE,
        "{passed} cases pass, fewer than the baseline {BASELINE}"
    );
}
