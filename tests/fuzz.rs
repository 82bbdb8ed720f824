//! A seeded, bounded fuzzer over every file zkinfer reads: ONNX bytes, input JSON, proof,
//! settings, key and SRS files. Each mutant (bytes flipped, truncated, inserted, overwritten
//! or repeated; for JSON also a value replaced anywhere in the tree) must give an answer, a
//! value or a clear error, and never a panic. The seed is fixed; the cases per file keep the
//! whole test within about half a minute on 2 cores.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use zkinfer::artifacts::{write_json, ModelDir};
use zkinfer::{compile, input::read_inputs, prove, setup, Model, Visibility};

const SEED: u64 = 0x5eed_f022;
/// Mutants per file.
const CASES: usize = 400;

fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

/// One byte-level mutation of `bytes`.
fn mutate_bytes(rng: &mut ChaCha20Rng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let at = |rng: &mut ChaCha20Rng, len: usize| rng.gen_range(0..len.max(1));
    match rng.gen_range(0..5) {
        0 => {
            for _ in 0..rng.gen_range(1..8) {
                if !b.is_empty() {
                    let i = at(rng, b.len());
                    b[i] ^= 1 << rng.gen_range(0..8);
                }
            }
        }
        1 => b.truncate(at(rng, b.len())),
        2 => {
            let i = at(rng, b.len());
            let extra: Vec<u8> = (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect();
            b.splice(i.min(b.len())..i.min(b.len()), extra);
        }
        3 => {
            let i = at(rng, b.len());
            let fill = if rng.gen() { 0x00 } else { 0xff };
            let end = (i + rng.gen_range(1..256)).min(b.len());
            b[i.min(end)..end].fill(fill);
        }
        _ => {
            let i = at(rng, b.len());
            let end = (i + rng.gen_range(1..128)).min(b.len());
            let chunk = b[i.min(end)..end].to_vec();
            b.splice(end..end, chunk);
        }
    }
    b
}

/// Renames one name in a protobuf: one character of a printable run (a node, tensor or
/// graph name) changes, the length stays, so the message still parses and a reference
/// dangles (the mutation that made tract panic).
fn mutate_name(rng: &mut ChaCha20Rng, bytes: &[u8]) -> Vec<u8> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        match (b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 3 {
                    runs.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    let mut b = bytes.to_vec();
    if let Some(run) = runs.get(rng.gen_range(0..runs.len().max(1))) {
        let i = rng.gen_range(run.clone());
        b[i] = if b[i] == b'z' { b'y' } else { b'z' };
    }
    b
}

/// A value a hostile or careless edit might leave.
fn odd_value(rng: &mut ChaCha20Rng) -> Value {
    match rng.gen_range(0..9) {
        0 => Value::Null,
        1 => serde_json::json!(-1),
        2 => serde_json::json!(0),
        3 => serde_json::json!(1e30),
        4 => serde_json::json!(u64::MAX),
        5 => serde_json::json!("x"),
        6 => serde_json::json!([]),
        7 => serde_json::json!({}),
        _ => serde_json::json!([1e30, -1e30, 0.5]),
    }
}

/// Replaces one value anywhere in `v`'s tree (or drops an object's key).
fn mutate_value(rng: &mut ChaCha20Rng, v: &mut Value) {
    let depth_stop = rng.gen_bool(0.3);
    match v {
        Value::Object(map) if !map.is_empty() && !depth_stop => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[rng.gen_range(0..keys.len())];
            if rng.gen_bool(0.15) {
                map.remove(k);
            } else {
                mutate_value(rng, map.get_mut(k).expect("a key of the map"));
            }
        }
        Value::Array(items) if !items.is_empty() && !depth_stop => {
            let i = rng.gen_range(0..items.len());
            mutate_value(rng, &mut items[i]);
        }
        _ => *v = odd_value(rng),
    }
}

fn mutate_json(rng: &mut ChaCha20Rng, text: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(text) {
        Ok(mut v) if rng.gen_bool(0.6) => {
            mutate_value(rng, &mut v);
            serde_json::to_vec(&v).expect("a value serializes")
        }
        _ => mutate_bytes(rng, text),
    }
}

/// How a file is mutated.
#[derive(Clone, Copy)]
enum Kind {
    Bytes,
    Json,
    Onnx,
}

/// Runs `check` on `CASES` mutants of `original`; returns the cases that panicked.
fn fuzz(
    name: &str,
    original: &[u8],
    kind: Kind,
    rng: &mut ChaCha20Rng,
    check: &dyn Fn(&[u8]),
) -> Vec<String> {
    let mut panics = Vec::new();
    for case in 0..CASES {
        let m = match kind {
            Kind::Json => mutate_json(rng, original),
            Kind::Bytes => mutate_bytes(rng, original),
            Kind::Onnx if rng.gen_bool(0.5) => mutate_name(rng, original),
            Kind::Onnx => mutate_bytes(rng, original),
        };
        if catch_unwind(AssertUnwindSafe(|| check(&m))).is_err() {
            panics.push(format!("{name} case {case} ({} bytes)", m.len()));
        }
    }
    panics
}

#[test]
fn no_file_panics_the_process() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = zoo("mlp_iris").join("model.onnx");
    let input_path = zoo("mlp_iris").join("inputs/input_00.json");
    let model = Model::from_path(&onnx).unwrap();
    let input = read_inputs(&input_path).unwrap();
    let settings = compile(&model, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &tmp.path().join("cache")).unwrap();
    let dir = tmp.path().join("iris");
    let d = ModelDir::new(&dir).unwrap();
    d.write_compiled(&settings, &onnx).unwrap();
    d.write_keys(&settings, &keys).unwrap();
    let proof = prove(&settings, &keys, &input).unwrap();
    let proof_path = tmp.path().join("proof.json");
    write_json(&proof_path, &proof).unwrap();
    let (srs, vk) = d.verifier(&settings).unwrap();
    let hash = settings.hash();
    let scratch = tmp.path().join("mutant");
    let write = |m: &[u8]| std::fs::write(&scratch, m).unwrap();
    let read = |p: &Path| std::fs::read(p).unwrap();

    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let mut panics = Vec::new();
    panics.extend(fuzz(
        "model.onnx",
        &read(&onnx),
        Kind::Onnx,
        &mut rng,
        &|m| {
            let _ = Model::from_bytes(m);
        },
    ));
    panics.extend(fuzz(
        "input.json",
        &read(&input_path),
        Kind::Json,
        &mut rng,
        &|m| {
            write(m);
            if let Ok(inp) = read_inputs(&scratch) {
                if let Ok(q) = settings.quantize_inputs(&inp) {
                    let _ = settings.circuit(&q);
                }
            }
        },
    ));
    panics.extend(fuzz(
        "proof.json",
        &read(&proof_path),
        Kind::Json,
        &mut rng,
        &|m| {
            write(m);
            if let Ok(p) = zkinfer::artifacts::read_proof(&scratch) {
                let _ = zkinfer::verify(&settings, &srs, &vk, &p);
            }
        },
    ));
    panics.extend(fuzz(
        "settings.json",
        &read(&dir.join("settings.json")),
        Kind::Json,
        &mut rng,
        &|m| {
            std::fs::write(dir.join("settings.json"), m).unwrap();
            if let Ok(s) = d.settings() {
                let _ = s.graph.validate();
            }
        },
    ));
    write_json(&dir.join("settings.json"), &settings).unwrap();
    for (file, read_key) in [("vk.bin", true), ("pk.bin", false)] {
        panics.extend(fuzz(
            file,
            &read(&dir.join(file)),
            Kind::Bytes,
            &mut rng,
            &|m| {
                write(m);
                let _ = if read_key {
                    zkinfer_prover::read_vk(&scratch, &hash, Default::default()).map(|_| ())
                } else {
                    zkinfer_prover::read_pk(&scratch, &hash, Default::default()).map(|_| ())
                };
            },
        ));
    }
    panics.extend(fuzz(
        "srs.params",
        &read(&dir.join("srs.params")),
        Kind::Bytes,
        &mut rng,
        &|m| {
            write(m);
            let _ = zkinfer_prover::Srs::read(&scratch, settings.logrows);
        },
    ));
    let ptau = tmp.path().join("mutant.ptau");
    // The unmutated file gets as far as its points (so mutants exercise the whole parser).
    std::fs::write(&ptau, tiny_ptau()).unwrap();
    let err = zkinfer_prover::Srs::read(&ptau, 1).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("not a valid"), "{err}");
    panics.extend(fuzz(
        "tiny.ptau",
        &tiny_ptau(),
        Kind::Bytes,
        &mut rng,
        &|m| {
            // Kept a `.ptau` file (the magic): the importer's parser runs.
            let mut b = b"ptau".to_vec();
            b.extend_from_slice(m.get(4..).unwrap_or_default());
            std::fs::write(&ptau, b).unwrap();
            let _ = zkinfer_prover::read_ptau_header(&ptau);
            let _ = zkinfer_prover::Srs::read(&ptau, 1);
        },
    ));
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
}

/// A `.ptau` file of the right shape for 2^1 powers (header, tauG1, tauG2, contributions)
/// whose points are arbitrary bytes.
fn tiny_ptau() -> Vec<u8> {
    // BN254's base field prime, little-endian.
    let q =
        hex::decode("47fd7cd8168c203c8dca7168916a81975d588181b64550b829a031e1724e6430").unwrap();
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend(&q);
    header.extend(1u32.to_le_bytes());
    header.extend(1u32.to_le_bytes());
    let sections: [(u32, Vec<u8>); 4] = [
        (1, header),
        (2, (0..3 * 64).map(|i| i as u8).collect()),
        (3, (0..2 * 128).map(|i| (i * 7) as u8).collect()),
        (7, 1u32.to_le_bytes().to_vec()),
    ];
    let mut out = b"ptau".to_vec();
    out.extend(1u32.to_le_bytes());
    out.extend((sections.len() as u32).to_le_bytes());
    for (id, body) in sections {
        out.extend(id.to_le_bytes());
        out.extend((body.len() as u64).to_le_bytes());
        out.extend(body);
    }
    out
}
