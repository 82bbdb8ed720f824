//! The ceremony SRS: Powers-of-Tau files made by snarkjs (the version pinned in
//! `verifier-contracts/package.json`) are imported, proofs under them verify and say which SRS
//! they used, and files for another curve, with too few powers, without contribution,
//! truncated or corrupt are clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use zkinfer::artifacts::read_proof;
use zkinfer::{compile, input::read_inputs, prove, setup, verify, Model, Visibility};
use zkinfer_prover::{ProverError, PtauError, Srs, SrsOrigin};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the pinned snarkjs CLI in `dir`.
fn snarkjs(dir: &Path, args: &[&str]) {
    let cli = root().join("verifier-contracts/node_modules/snarkjs/build/cli.cjs");
    assert!(
        cli.exists(),
        "{} is missing: run `npm ci` in verifier-contracts/ (the tests need the pinned snarkjs)",
        cli.display()
    );
    let out = Command::new("node")
        .arg(&cli)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("node (Node.js) must be installed to run snarkjs");
    assert!(
        out.status.success(),
        "snarkjs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Power of the test ceremony: mlp_iris needs 2^10 rows.
const POWER: u32 = 11;

/// A directory with `fresh.ptau` (no contribution), `tau.ptau` (one contribution) and
/// `bls.ptau` (BLS12-381), made once per test run.
fn ptau_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ceremony_srs");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = POWER.to_string();
        snarkjs(&dir, &["powersoftau", "new", "bn128", &p, "fresh.ptau"]);
        snarkjs(
            &dir,
            &[
                "powersoftau",
                "contribute",
                "fresh.ptau",
                "tau.ptau",
                "--name=zkinfer test",
                "-e=zkinfer test entropy",
            ],
        );
        snarkjs(&dir, &["powersoftau", "new", "bls12-381", "1", "bls.ptau"]);
        dir
    })
}

fn ptau_error(path: &Path, k: u32) -> PtauError {
    match Srs::from_ptau(path, k) {
        Err(ProverError::Ptau { error, .. }) => error,
        Err(e) => panic!("{}: expected a ptau error, got {e}", path.display()),
        Ok(_) => panic!("{}: imported", path.display()),
    }
}

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn imported_ceremony_srs_proves_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let ptau = ptau_dir().join("tau.ptau");
    let params = tmp.path().join("ceremony.params");
    let out = zkinfer(&[
        "import-srs",
        ptau.to_str().unwrap(),
        "--out",
        params.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logrows"], POWER);
    assert_eq!(v["srs"]["kind"], "ceremony");
    assert_eq!(v["srs"]["contributions"], 1);

    let zoo = root().join("tests/data/zoo/mlp_iris");
    let m = Model::from_path(&zoo.join("model.onnx")).unwrap();
    let input = read_inputs(&zoo.join("inputs/input_00.json")).unwrap();
    let settings = compile(&m, std::slice::from_ref(&input), Visibility::default()).unwrap();
    assert!(settings.logrows < POWER, "the test exercises truncation");
    let keys = setup(&settings, Some(&params), &zkinfer::default_cache_dir()).unwrap();
    let SrsOrigin::Ceremony { file, power, .. } = &keys.srs.origin else {
        panic!("origin {:?}", keys.srs.origin)
    };
    assert_eq!((file.as_str(), *power), ("tau.ptau", POWER));
    let proof = prove(&settings, &keys, &input).unwrap();
    assert_eq!(proof.srs, keys.srs.origin);
    assert!(verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
        .unwrap()
        .is_verified());

    // A proof under the dev SRS, relabelled with the ceremony key's hash, does not verify.
    let dev = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let mut dev_proof = prove(&settings, &dev, &input).unwrap();
    assert!(dev_proof.srs.is_insecure());
    dev_proof.vk_hash = proof.vk_hash.clone();
    assert!(matches!(
        verify(&settings, &keys.srs, keys.pk.get_vk(), &dev_proof),
        Ok(zkinfer::Verdict::Rejected { .. })
    ));

    // The CLI path: setup --srs, prove, verify; the artifacts name the ceremony.
    let dir = tmp.path().join("iris");
    let d = dir.to_str().unwrap();
    let inp = zoo.join("inputs/input_00.json");
    let p = tmp.path().join("proof.json");
    for args in [
        vec![
            "compile",
            zoo.join("model.onnx").to_str().unwrap(),
            "--calibration",
            inp.to_str().unwrap(),
            "--out",
            d,
        ],
        vec!["setup", d, "--srs", params.to_str().unwrap()],
        vec![
            "prove",
            d,
            "--input",
            inp.to_str().unwrap(),
            "--proof",
            p.to_str().unwrap(),
        ],
        vec!["verify", d, "--proof", p.to_str().unwrap()],
        vec!["create-verifier", d],
    ] {
        let out = zkinfer(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A ceremony SRS draws no development-SRS warning.
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("warning"),
            "{args:?}"
        );
    }
    let setup_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("setup.json")).unwrap()).unwrap();
    assert_eq!(setup_json["srs"]["kind"], "ceremony");
    assert!(matches!(
        read_proof(&p).unwrap().srs,
        SrsOrigin::Ceremony { .. }
    ));
    // The verifier's NatSpec names the ceremony file.
    let sol = std::fs::read_to_string(dir.join("evm/Verifier.sol")).unwrap();
    assert!(
        sol.contains("@custom:srs") && sol.contains("Powers-of-Tau ceremony file tau.ptau"),
        "{}",
        &sol[..600]
    );
}

#[test]
fn wrong_curve_too_few_powers_and_no_contribution_are_clear_errors() {
    let dir = ptau_dir();
    let e = ptau_error(&dir.join("bls.ptau"), 4);
    assert!(
        matches!(
            e,
            PtauError::WrongCurve {
                curve: "bls12-381",
                ..
            }
        ),
        "{e}"
    );
    assert!(e
        .to_string()
        .starts_with("wrong curve: this file is for bls12-381"));

    let e = ptau_error(&dir.join("tau.ptau"), POWER + 1);
    assert!(matches!(e, PtauError::TooFewPowers { have: 11, need: 12 }));
    assert_eq!(
        e.to_string(),
        "too few powers: file has 2^11, circuit needs 2^12"
    );

    let e = ptau_error(&dir.join("fresh.ptau"), 4);
    assert!(matches!(e, PtauError::NoContribution), "{e}");

    // Through the CLI: an error message, exit 2, no params written.
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("p.params");
    let out = zkinfer(&[
        "import-srs",
        dir.join("bls.ptau").to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong curve"));
    assert!(!out_path.exists());
}

/// Byte offset of the first point of section `id` in a `.ptau` file.
fn section_start(bytes: &[u8], id: u32) -> usize {
    let n = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    let mut pos = 12;
    for _ in 0..n {
        let ty = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        let len = u64::from_le_bytes(bytes[pos + 4..pos + 12].try_into().unwrap()) as usize;
        if ty == id {
            return pos + 12;
        }
        pos += 12 + len;
    }
    panic!("no section {id}")
}

#[test]
fn corrupt_and_truncated_files_are_clear_errors() {
    let good = std::fs::read(ptau_dir().join("tau.ptau")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let g1 = section_start(&good, 2);

    // One flipped bit in a coordinate: off the curve.
    let mut flipped = good.clone();
    flipped[g1 + 5 * 64 + 7] ^= 1;
    let e = ptau_error(&write("flipped.ptau", &flipped), 8);
    assert!(
        matches!(
            e,
            PtauError::BadPoint {
                section: "tauG1",
                index: 5
            }
        ),
        "{e}"
    );

    // Two valid powers swapped: every point is on the curve, the pairing check fails.
    let mut swapped = good.clone();
    let (a, b) = (g1 + 3 * 64, g1 + 4 * 64);
    let p3 = swapped[a..a + 64].to_vec();
    swapped.copy_within(b..b + 64, a);
    swapped[b..b + 64].copy_from_slice(&p3);
    let e = ptau_error(&write("swapped.ptau", &swapped), 8);
    assert!(matches!(e, PtauError::Inconsistent { .. }), "{e}");
    assert!(e.to_string().starts_with("corrupt file"));

    // A corrupt [tau]G2.
    let mut g2 = good.clone();
    g2[section_start(&good, 3) + 128 + 3] ^= 0x10;
    let e = ptau_error(&write("g2.ptau", &g2), 4);
    assert!(
        matches!(
            e,
            PtauError::BadPoint { .. } | PtauError::Inconsistent { .. }
        ),
        "{e}"
    );

    // Truncated, at several places (the section table, inside tauG1, the very start).
    for len in [good.len() - 1, g1 + 1000, 40, 6] {
        let e = ptau_error(&write("short.ptau", &good[..len]), 4);
        assert!(matches!(e, PtauError::Truncated { .. }), "{len}: {e}");
    }

    // Not a ptau file at all.
    let e = ptau_error(&write("junk.ptau", b"not a ptau file"), 4);
    assert!(matches!(e, PtauError::NotPtau { .. }), "{e}");
}
