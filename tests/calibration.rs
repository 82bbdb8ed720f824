//! Calibration of float models (per-tensor scales, `--target accuracy|resources`), the
//! accuracy report, and range safety beyond the calibrated range.

use std::path::{Path, PathBuf};
use std::process::Command;
use zkinfer::calibration::{accuracy, calibrate, read_data_dir};
use zkinfer::{compile_with, prove, setup, verify, Model, Nonlinear, Target, Visibility};

fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

fn load(model: &str) -> (Model, Vec<Vec<Vec<f32>>>) {
    let m = Model::from_path(&zoo(model).join("model.onnx")).unwrap();
    let data = read_data_dir(&zoo(model).join("inputs")).unwrap();
    (m, data)
}

/// EZKL 23.0.5 with `--target accuracy` on this machine's 2 cores, same 10 inputs
/// (`../shared/peer/ezkl_bench.sh MODEL --target accuracy`): logrows and max abs error.
const EZKL_ACCURACY: &[(&str, u32, f64)] = &[
    ("linreg_diabetes", 15, 5.47e-3),
    ("mlp_iris", 15, 4.98e-3),
    ("mlp_digits", 15, 3.75e-3),
    ("cnn_digits", 15, 4.23e-3),
    ("cnn_digits_bn", 15, 4.28e-3),
    ("mlp_digits_tanh", 18, 1.49e-3),
];

#[test]
fn accuracy_target_beats_ezkl_at_no_larger_logrows() {
    for (model, ezkl_k, ezkl_err) in EZKL_ACCURACY {
        let (m, data) = load(model);
        let c = calibrate(&m, &data, Target::Accuracy).unwrap();
        let settings = compile_with(&m, &data, Some(c.quant), Visibility::default()).unwrap();
        let r = accuracy(&m, &settings, &data).unwrap();
        eprintln!(
            "{model}: logrows {}, top-1 {}/{}, max abs error {:.2e}",
            settings.logrows, r.top1_agree, r.samples, r.max_abs_error
        );
        if *model != "linreg_diabetes" {
            assert_eq!(r.top1_agree, 10, "{model}");
        }
        assert!(r.max_abs_error <= *ezkl_err, "{model}: {}", r.max_abs_error);
        assert!(settings.logrows <= *ezkl_k, "{model}");
        assert!(!r.layers.is_empty(), "{model}: a per-layer table");
    }
}

#[test]
fn per_tensor_scales_fix_the_global_scale_error_of_linreg() {
    let (m, data) = load("linreg_diabetes");
    let c = calibrate(&m, &data, Target::Accuracy).unwrap();
    // The input (|x| < 0.2) gets a finer scale than the output (|y| up to 259).
    let s = &c.quant.tensor_scales;
    assert!(s["input"] > s["add"], "{s:?}");
    let settings = compile_with(&m, &data, Some(c.quant.clone()), Visibility::default()).unwrap();
    assert_eq!(settings.graph.inputs[0].scale, s["input"]);
    let r = accuracy(&m, &settings, &data).unwrap();
    // One global scale gave 5.6e-3 here.
    assert!(r.max_abs_error < 1e-3, "{}", r.max_abs_error);
    // And it still proves.
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let proof = prove(&settings, &keys, &data[0]).unwrap();
    assert!(verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
        .unwrap()
        .is_verified());
}

#[test]
fn resources_target_makes_smaller_tables() {
    let (m, data) = load("mlp_digits_tanh");
    let (mut acc, mut res) = (
        calibrate(&m, &data, Target::Accuracy).unwrap(),
        calibrate(&m, &data, Target::Resources).unwrap(),
    );
    // Tables, which set this model's size (segments make both logrows 10).
    acc.quant.nonlinear = Nonlinear::Table;
    res.quant.nonlinear = Nonlinear::Table;
    let sa = compile_with(&m, &data, Some(acc.quant), Visibility::default()).unwrap();
    let sr = compile_with(&m, &data, Some(res.quant), Visibility::default()).unwrap();
    eprintln!(
        "tanh: logrows {} (accuracy) vs {} (resources)",
        sa.logrows, sr.logrows
    );
    assert!(sr.logrows < sa.logrows);
    let r = accuracy(&m, &sr, &data).unwrap();
    assert_eq!(r.top1_agree, 10);
}

#[test]
fn input_beyond_the_calibrated_range_is_a_clear_error() {
    let (m, data) = load("mlp_digits");
    let c = calibrate(&m, &data, Target::Accuracy).unwrap();
    let settings = compile_with(&m, &data, Some(c.quant), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let far: Vec<Vec<f32>> = data[0]
        .iter()
        .map(|v| v.iter().map(|x| x * 1000.0).collect())
        .collect();
    let err = prove(&settings, &keys, &far).unwrap_err().to_string();
    assert!(
        err.contains("outside the range") || err.contains("outside the representable range"),
        "{err}"
    );
}

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed with `--json`; returns its JSON.
fn zkinfer_json(args: &[&str]) -> serde_json::Value {
    let out = zkinfer(&[args, &["--json"]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_calibrate_compile_and_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("cal.json");
    let model = zoo("mlp_iris").join("model.onnx");
    let data = zoo("mlp_iris").join("inputs");
    let (model, data) = (model.to_str().unwrap(), data.to_str().unwrap());
    let v = zkinfer_json(&[
        "calibrate",
        model,
        "--data",
        data,
        "--out",
        cal.to_str().unwrap(),
    ]);
    assert_eq!(v["top1_agree"], 10);
    let tensors = v["tensors"].as_array().unwrap();
    assert!(tensors.iter().all(|t| t["scale_bits"].is_i64()));
    let compiled = dir.path().join("iris");
    let cal = cal.to_str().unwrap();
    zkinfer_json(&[
        "compile",
        model,
        "--calibrated",
        cal,
        "--out",
        compiled.to_str().unwrap(),
    ]);
    // A calibration file is bound to its model.
    let other = zoo("mlp_digits").join("model.onnx");
    let other = other.to_str().unwrap();
    let x = dir.path().join("x");
    let out = zkinfer(&[
        "compile",
        other,
        "--calibrated",
        cal,
        "--out",
        x.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("calibrated for model"));
    let v = zkinfer_json(&["accuracy", model, "--data", data]);
    assert_eq!(v["samples"], 10);
    assert!(v["max_abs_error"].as_f64().unwrap() < 1e-3);
    assert!(!v["layers"].as_array().unwrap().is_empty());
}

/// A circuit compiled on one sample (as the README's quick start does) evaluates, within its
/// range checks, every other sample of the model's data: the acceptance of issue 16. Proving
/// is what the zoo tests do; here the witness (the integer oracle with every range check a
/// proof enforces) is what one sample must be enough for.
#[test]
fn one_sample_compile_holds_for_the_other_samples() {
    let mut failures = vec![];
    for model in std::fs::read_dir(zoo("")).unwrap() {
        let name = model.unwrap().file_name().to_string_lossy().to_string();
        let (m, data) = load(&name);
        let settings = zkinfer::compile(&m, &data[..1], Visibility::default()).unwrap();
        for (i, input) in data.iter().enumerate().skip(1) {
            let q = settings.quantize_inputs(input);
            let r = q.and_then(|q| Ok(settings.graph.eval(&q)?));
            if let Err(e) = r {
                failures.push(format!("{name} input_{i:02}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An input beyond the ranges a circuit was calibrated for is an error in real units that
/// says what to do; the same input proves once the ranges are widened.
#[test]
fn beyond_calibration_says_what_to_do() {
    let (m, data) = load("tiny_transformer_block");
    let narrow = |margin: f64| {
        let mut quant = zkinfer::calibrate(&m, &data[..1], Target::Balanced).unwrap();
        quant.range_margin = Some(margin);
        compile_with(&m, &data[..1], Some(quant), Visibility::default()).unwrap()
    };
    let settings = narrow(0.0);
    let q = settings.quantize_inputs(&data[1]).unwrap();
    let Err(err) = settings.circuit(&q) else {
        panic!("input_01 is beyond ranges compiled on input_00 with no margin")
    };
    assert!(
        matches!(err, zkinfer::Error::BeyondCalibration { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    for needle in [
        "node `",
        "in real units",
        "--data DIR",
        "--range-margin",
        "(now 0)",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let settings = narrow(2.0);
    let q = settings.quantize_inputs(&data[1]).unwrap();
    assert!(settings.circuit(&q).is_ok());
}

/// A causal mask forces the masked scores to a coarse scale; the softmax's exp table must
/// still be fine. With −1e4 (as GPT exports write it) the masked exponentials round to 0
/// whatever the input (its range is ±128), so they are left out: the softmax runs over the
/// 544 unmasked scores of 1,024. With −100 the inputs' range can outweigh the mask, so every
/// score stays in, and the table is floored where exp rounds to 0 and its output is as fine
/// as the sum allows. Before the floor, the table stepped every 2 in the logits (e^±1
/// errors: max abs error 0.126 on these probabilities).
#[test]
fn masked_softmax_keeps_its_precision() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/masked_softmax");
    let data = read_data_dir(&dir.join("inputs")).unwrap();
    for (file, floored, live) in [
        ("model.onnx", false, 544),
        ("model_mask100.onnx", true, 1024),
    ] {
        let m = Model::from_path(&dir.join(file)).unwrap();
        let settings = zkinfer::compile(&m, &data, Visibility::default()).unwrap();
        let r = accuracy(&m, &settings, &data).unwrap();
        eprintln!(
            "masked softmax {file}: max abs error {:.3e}",
            r.max_abs_error
        );
        assert!(r.max_abs_error < 5e-3, "{file}: {}", r.max_abs_error);
        let node = |name: &str| settings.graph.nodes.iter().find(|n| n.name == name);
        assert_eq!(node("softmax.exp.floor").is_some(), floored, "{file}");
        let shifted = node("softmax.shifted").unwrap();
        assert_eq!(shifted.shape.iter().product::<usize>(), live, "{file}");
    }
}

/// A LayerNorm beside a −1e4 mask: the mask makes the model's default scale 2^8, and the
/// LayerNorm's squares, variance and reciprocal square root, which have ranges of their own,
/// took it (GPT-style decoder logits were 1.4e-2 off). Each now gets the finest scale its
/// range allows: the normalized output is within 5e-4 (4.7e-5 measured).
#[test]
fn layernorm_beside_a_mask_keeps_its_precision() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/masked_layernorm");
    let m = Model::from_path(&dir.join("model.onnx")).unwrap();
    let data = read_data_dir(&dir.join("inputs")).unwrap();
    let settings = zkinfer::compile(&m, &data, Visibility::default()).unwrap();
    assert_eq!(
        settings.quant.as_ref().unwrap().act_scale,
        8,
        "the mask sets the default"
    );
    let r = accuracy(&m, &settings, &data).unwrap();
    let ln = r.layers.iter().find(|l| l.name == "ln.y_internal").unwrap();
    eprintln!(
        "layernorm beside a mask: max abs error {:.3e}",
        ln.max_abs_error
    );
    assert!(ln.max_abs_error < 5e-4, "{}", ln.max_abs_error);
    // Argmax per row: 16 positions of each of the two outputs, 8 samples.
    assert_eq!(r.rows, 8 * 32);
    assert_eq!(r.rows_agree, r.rows);
}

/// A causal attention (`tests/data/onnx/causal_attention`): the scores are range-checked and
/// the mask is −1e4, so the masked scores' exponentials round to 0 whatever the input. The
/// softmax runs over the 36 unmasked scores of 64, the second product reads only those, and
/// the masked scores are not computed at all (`Graph::compact_dead_elements`); the honest
/// layout has no free cell. Before, the same model took 29,759 circuit rows (23,771 now),
/// max abs error 3.1e-3 (3.0e-3 now: the exp table spans the unmasked range only).
#[test]
fn causal_attention_leaves_out_the_masked_scores() {
    use zkinfer_circuits::ops::Op;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/causal_attention");
    let m = Model::from_path(&dir.join("model.onnx")).unwrap();
    let data = read_data_dir(&dir.join("inputs")).unwrap();
    let settings = zkinfer::compile(&m, &data, Visibility::default()).unwrap();
    let graph = &settings.graph;
    let node = |name: &str| graph.nodes.iter().find(|n| n.name == name).unwrap();
    let products = |name: &str| match &node(name).op {
        Op::Bilinear(b) => b.rows.iter().map(Vec::len).sum::<usize>(),
        op => panic!("{name}: {op:?}"),
    };
    // 36 scores of 16 products each; as many terms in the context's 128 sums.
    assert_eq!(products("qk"), 36 * 16);
    assert_eq!(products("ctx"), 36 * 16);
    assert_eq!(node("softmax.live").shape, vec![36]);
    let r = accuracy(&m, &settings, &data).unwrap();
    eprintln!("causal attention: max abs error {:.3e}", r.max_abs_error);
    assert!(r.max_abs_error < 5e-3, "{}", r.max_abs_error);
    assert_eq!(r.rows_agree, r.rows);
    let q = settings.quantize_inputs(&data[0]).unwrap();
    let circuit = settings.circuit(&q).unwrap();
    zkinfer_circuits::testing::check_honest(&circuit).unwrap();
}
