//! What the CLI does besides its work, and what it says (issue 16): commands that read a
//! model directory create none; every cause of an error is printed once; `run --out` makes a
//! directory every later command takes; outputs are checked before the work; a rejected
//! proof says why in words; what an input file says is checked, not silently dropped.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env_remove("ZKINFER_PRIVATE_KEY")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command that must fail with exit 2; returns its error line (stderr).
fn fails(args: &[&str]) -> String {
    let out = zkinfer(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    stderr(&out)
}

/// Runs a command that must succeed with `--json`; returns its JSON.
fn json_ok(args: &[&str]) -> Value {
    let out = zkinfer(&[args, &["--json"]].concat());
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn iris() -> (String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mlp_iris");
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    (s(dir.join("model.onnx")), s(dir.join("input.json")))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `zkinfer run` on mlp_iris into `tmp/NAME`: a compiled, set-up and proven directory.
fn proven_iris(tmp: &Path, name: &str) -> PathBuf {
    let (model, input) = iris();
    let dir = tmp.join(name);
    json_ok(&["run", &model, "--input", &input, "--out", s(&dir)]);
    dir
}

#[test]
fn commands_that_read_a_directory_create_none_and_say_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, input) = iris();
    let missing = tmp.path().join("missing");
    let m = s(&missing);
    let proof = s(&tmp.path().join("p.json")).to_string();
    for args in [
        vec!["setup", m],
        vec!["prove", m, "--input", &input, "--proof", &proof],
        vec!["verify", m, "--proof", &proof],
        vec!["create-verifier", m],
        vec!["verify-evm", m, "--proof", &proof],
        vec!["calldata", m, "--proof", &proof],
    ] {
        let err = fails(&args);
        assert!(
            err.contains(&format!("{m} does not exist")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!(
                "run `zkinfer compile MODEL --calibration INPUT.json --out {m}` first"
            )),
            "{args:?}: {err}"
        );
        assert!(!missing.exists(), "{args:?} created {m}");
        assert!(!Path::new(&proof).exists(), "{args:?} wrote {proof}");
    }
    // An empty directory is not a compiled one.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = fails(&["setup", s(&empty)]);
    assert!(
        err.contains("is not a compiled model directory (it has no settings.json)"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    // Compiled, not set up: prove and verify say to run setup.
    let (model, input) = iris();
    let compiled = tmp.path().join("compiled");
    let c = s(&compiled);
    json_ok(&["compile", &model, "--calibration", &input, "--out", c]);
    let err = fails(&["prove", c, "--input", &input, "--proof", &proof]);
    assert!(
        err.contains(&format!("run `zkinfer setup {c}` first")),
        "{err}"
    );
    assert!(!err.contains("prove:"), "proved before failing: {err}");
    let other = proven_iris(tmp.path(), "other");
    let err = fails(&["verify", c, "--proof", s(&other.join("proof.json"))]);
    assert!(
        err.contains(&format!("run `zkinfer setup {c}` first")),
        "{err}"
    );
}

#[test]
fn every_cause_of_an_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = proven_iris(tmp.path(), "iris");
    let out = s(&tmp.path().join("p.json")).to_string();
    let missing = "/nonexistent/input.json";
    let err = fails(&["prove", s(&dir), "--input", missing, "--proof", &out]);
    assert_eq!(
        err.trim(),
        format!("error: {missing}: No such file or directory (os error 2)")
    );
    let json = zkinfer(&[
        "prove",
        s(&dir),
        "--input",
        missing,
        "--proof",
        &out,
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["error"],
        format!("{missing}: No such file or directory (os error 2)")
    );
    // Through a step's context ("… failed") too.
    let err = fails(&["import-srs", "/nonexistent/x.ptau", "--out", &out]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn run_out_makes_a_directory_that_prove_verify_and_create_verifier_take() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, input) = iris();
    let dir = proven_iris(tmp.path(), "iris");
    let d = s(&dir);
    assert!(dir.join("model.onnx").is_file());
    let proof = tmp.path().join("again.json");
    let p = json_ok(&["prove", d, "--input", &input, "--proof", s(&proof)]);
    assert!(p["float_outputs"].is_array());
    assert_eq!(
        json_ok(&["verify", d, "--proof", s(&proof)])["verified"],
        true
    );
    let v = json_ok(&["create-verifier", d]);
    assert!(dir.join("evm/Verifier.sol").is_file(), "{v}");
    // The bundled model too, with no model file to copy.
    let bundled = tmp.path().join("bundled");
    json_ok(&["run", "--out", s(&bundled)]);
    let digits = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mlp_digits/input.json");
    let proof = tmp.path().join("digits.json");
    json_ok(&[
        "prove",
        s(&bundled),
        "--input",
        s(&digits),
        "--proof",
        s(&proof),
    ]);
    assert_eq!(
        json_ok(&["verify", s(&bundled), "--proof", s(&proof)])["verified"],
        true
    );
}

#[test]
fn outputs_are_checked_before_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, input) = iris();
    let dir = proven_iris(tmp.path(), "iris");
    let d = s(&dir);
    let file = dir.join("settings.json");

    let nowhere = tmp.path().join("missing/dir/p.json");
    let err = fails(&["prove", d, "--input", &input, "--proof", s(&nowhere)]);
    assert!(
        err.contains(&format!(
            "--proof: {}: the directory {} does not exist; create it first",
            nowhere.display(),
            tmp.path().join("missing/dir").display()
        )),
        "{err}"
    );
    assert!(!err.contains("prove:"), "proved before failing: {err}");
    assert!(!tmp.path().join("missing").exists());

    let err = fails(&["prove", d, "--input", &input, "--proof", d]);
    assert!(err.contains("is a directory; give a file name"), "{err}");

    let under_file = file.join("out");
    let err = fails(&["run", &model, "--input", &input, "--out", s(&under_file)]);
    assert!(
        err.contains(&format!("{} is not a directory", file.display())),
        "{err}"
    );
    assert!(!err.contains("compile:"), "compiled before failing: {err}");

    let err = fails(&["create-verifier", d, "--out", s(&under_file)]);
    assert!(
        err.contains(&format!("{} is not a directory", file.display())),
        "{err}"
    );
    assert!(!dir.join("evm").exists());

    let err = fails(&[
        "import-srs",
        s(&dir.join("srs.params")),
        "--logrows",
        "4",
        "--out",
        s(&nowhere),
    ]);
    assert!(
        err.contains("--out:") && err.contains("does not exist"),
        "{err}"
    );
}

/// `verify` of `proof` against `dir`, text and JSON: exit 1 and the reason of each.
fn rejected(dir: &str, proof: &Path) -> (String, String) {
    let text = zkinfer(&["verify", dir, "--proof", s(proof)]);
    assert_eq!(text.status.code(), Some(1), "{text:?}");
    let json = zkinfer(&["verify", dir, "--proof", s(proof), "--json"]);
    assert_eq!(json.status.code(), Some(1), "{json:?}");
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["verified"], false);
    (
        String::from_utf8_lossy(&text.stdout).into_owned(),
        v["reason"].as_str().unwrap().to_string(),
    )
}

fn assert_worded(text: &str, reason: &str, words: &str) {
    assert!(reason.contains(words), "{reason}");
    assert!(text.contains(reason), "{text}");
    for debug in [
        "ConstraintSystemFailure",
        "Custom {",
        "Transcript(",
        "kind:",
    ] {
        assert!(!reason.contains(debug), "{reason}");
    }
    assert_ne!(reason, "Opening");
}

#[test]
fn rejections_say_in_words_what_was_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = proven_iris(tmp.path(), "iris");
    let d = s(&dir);
    let honest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("proof.json")).unwrap()).unwrap();
    let bytes = hex::decode(honest["proof"].as_str().unwrap()).unwrap();
    let write = |name: &str, v: &Value| {
        let path = tmp.path().join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let with_bytes = |name: &str, b: &[u8]| {
        let mut v = honest.clone();
        v["proof"] = Value::String(hex::encode(b));
        write(name, &v)
    };

    // Altered public outputs: the proof does not hold for them.
    let mut altered = honest.clone();
    altered["public_outputs"][0] = (altered["public_outputs"][0].as_i64().unwrap() + 1).into();
    let (text, reason) = rejected(d, &write("altered.json", &altered));
    assert_worded(&text, &reason, "does not satisfy the circuit's constraints");

    // A flipped byte in the first commitment: not a curve point.
    let mut flipped = bytes.clone();
    flipped[10] ^= 1;
    let (text, reason) = rejected(d, &with_bytes("point.json", &flipped));
    assert_worded(&text, &reason, "malformed: invalid point encoding");

    // A flipped byte among the evaluations: the pairing check fails.
    let mut flipped = bytes.clone();
    flipped[700] ^= 1;
    let (text, reason) = rejected(d, &with_bytes("scalar.json", &flipped));
    assert_worded(&text, &reason, "altered or forged");

    // A flipped last byte, and a truncated proof: the opening at the end is unreadable.
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let (text, reason) = rejected(d, &with_bytes("last.json", &flipped));
    assert_worded(&text, &reason, "malformed");
    let (text, reason) = rejected(d, &with_bytes("short.json", &bytes[..bytes.len() - 64]));
    assert_worded(&text, &reason, "truncated");

    // Bytes after the proof.
    let mut long = bytes.clone();
    long.extend([0; 32]);
    let (text, reason) = rejected(d, &with_bytes("long.json", &long));
    assert_worded(&text, &reason, "go on after the proof ends");
}

#[test]
fn input_files_are_checked_not_silently_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = proven_iris(tmp.path(), "iris");
    let d = s(&dir);
    let proof = s(&tmp.path().join("p.json")).to_string();
    let (model, _) = iris();
    let prove_err = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = fails(&["prove", d, "--input", s(&path), "--proof", &proof]);
        let run = fails(&["run", &model, "--input", s(&path)]);
        assert!(!err.contains("prove:"), "proved before failing: {err}");
        (err, run)
    };
    let (err, run) = prove_err(
        "both.json",
        r#"{"input":[1,2,3,4],"input_data":[[5,6,7,8]]}"#,
    );
    for e in [&err, &run] {
        assert!(
            e.contains("both `input` (zkinfer's format) and `input_data` (EZKL's) are given"),
            "{e}"
        );
    }
    let (err, _) = prove_err("six.json", r#"{"input":[1,2,3,4],"shape":[2,3]}"#);
    assert!(
        err.contains("`shape` [2,3] does not hold the 4 values of `input`"),
        "{err}"
    );
    let (err, _) = prove_err("text.json", r#"{"input":[1,2,3,4],"shape":"1x4"}"#);
    assert!(
        err.contains(
            r#"`shape` must be an array of non-negative integers such as [1,4], not "1x4""#
        ),
        "{err}"
    );
    let (err, run) = prove_err("turned.json", r#"{"input":[1,2,3,4],"shape":[4,1]}"#);
    for e in [&err, &run] {
        assert!(
            e.contains("`shape` [4,1] is not the shape [1,4] of the model's input"),
            "{e}"
        );
    }
    let (err, _) = prove_err("ezkl.json", r#"{"input_data":[[1,2,3,4]],"shape":[1,4]}"#);
    assert!(err.contains("`shape` goes with `input`"), "{err}");
    assert!(!Path::new(&proof).exists());

    // A field zkinfer does not read is named in a warning (a misspelt `shape`).
    let typo = tmp.path().join("typo.json");
    std::fs::write(&typo, r#"{"input":[0.1,0.2,0.3,0.4],"shap":[1,4]}"#).unwrap();
    let out = zkinfer(&["prove", d, "--input", s(&typo), "--proof", &proof]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: {}: ignored field `shap` (an input file holds `input` and optionally \
             `shape`, or EZKL's `input_data`)",
            typo.display()
        )),
        "{}",
        stderr(&out)
    );
}
