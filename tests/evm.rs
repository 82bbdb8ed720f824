//! The generated Solidity verifier, compiled with solc-js and run in revm (Osaka): valid
//! proofs of the zoo models are accepted; every tested corruption (64 sampled single-byte
//! flips, each public instance changed, a truncated proof, an empty proof) is rejected by a
//! revert or `false`, cheaply (never an exceptional halt that burns the gas), and the native
//! verifier rejects exactly the same bytes.
//!
//! Golden figures (runtime bytecode hash, VK blob hash, execution gas) live in
//! `tests/data/evm_golden/<model>.json`; `ZKINFER_UPDATE_GOLDEN=1` rewrites them on purpose.

#[path = "common/evm_case.rs"]
mod evm_case;

use evm_case::{cli_proven_iris, corruptions, prove_model, zkinfer_cli, Case};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use zkinfer::evm::{create_verifier, run_raw, EvmVerifier};
use zkinfer_prover::Fr;

/// Calldata gas of `data` before Osaka's floor (4 per zero byte, 16 otherwise).
fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum()
}

fn native_accepts(case: &Case, bytes: &[u8], instances: &[Fr]) -> bool {
    zkinfer_prover::verify(
        &case.keys.srs.params,
        case.keys.pk.get_vk(),
        bytes,
        instances,
        case.settings.num_instances(),
    )
    .is_ok()
}

/// Runs a corrupted call: must be rejected without an exceptional halt.
fn assert_rejected(v: &EvmVerifier, case: &Case, bytes: &[u8], instances: &[Fr], what: &str) {
    let out = run_raw(v, bytes, instances).unwrap();
    assert!(!out.verified, "{what}: accepted by the EVM verifier");
    assert!(!out.halted, "{what}: exceptional halt (burns all gas)");
    assert!(
        out.gas < 2_000_000,
        "{what}: rejection cost {} gas",
        out.gas
    );
    assert!(
        !native_accepts(case, bytes, instances),
        "{what}: accepted by the native verifier"
    );
}

/// The BN254 base field order `p`, big-endian.
const BASE_FIELD_ORDER: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";

/// Like [`assert_rejected`], and the revert data is the custom error `error`.
fn assert_reverts_with(v: &EvmVerifier, case: &Case, bytes: &[u8], instances: &[Fr], error: &str) {
    assert_rejected(v, case, bytes, instances, error);
    let out = run_raw(v, bytes, instances).unwrap();
    assert!(out.reverted, "{error}: {out:?}");
    assert_eq!(hex::encode(&out.output), selector(error), "{error}");
}

fn check_golden(model: &str, figures: Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/evm_golden")
        .join(format!("{model}.json"));
    if std::env::var_os("ZKINFER_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&figures).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{}: missing; run with ZKINFER_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    let golden: Value = serde_json::from_str(&text).unwrap();
    for key in [
        "verifier_runtime_sha256",
        "vk_blob_sha256",
        "verifier_runtime_bytes",
        "execution_gas",
    ] {
        assert_eq!(
            figures[key], golden[key],
            "{model}: {key} changed (ZKINFER_UPDATE_GOLDEN=1 to accept)"
        );
    }
}

/// The whole acceptance list for one model; returns the valid proof's gas.
fn evm_model(model: &str) -> u64 {
    let case = prove_model(model, false);
    let vk = case.keys.pk.get_vk();
    let v = create_verifier(&case.settings, &case.keys.srs, vk, false).unwrap();
    let bytes = case.proof.bytes().unwrap();
    let instances = case.proof.instances();

    // Every precompile call is given the gas left, never a fixed stipend that a repricing
    // fork would leave short (every verification would then fail).
    let calls: Vec<&str> = v.generated.solidity.split("staticcall(").skip(1).collect();
    assert!(
        calls.len() >= 4,
        "{model}: {} precompile calls",
        calls.len()
    );
    for call in calls {
        assert!(call.starts_with("gas(),"), "{model}: staticcall({call:.40}");
    }
    let ok = run_raw(&v, &bytes, &instances).unwrap();
    assert!(ok.verified, "{model}: valid proof rejected: {ok:?}");
    let calldata = zkinfer::evm::calldata(&case.proof).unwrap();
    let execution_gas = ok.gas - 21_000 - calldata_gas(&calldata);

    for (what, b, inst) in corruptions(&bytes, &instances) {
        assert_rejected(&v, &case, &b, &inst, &format!("{model}: {what}"));
    }
    // Malformed encodings revert early with their custom error.
    let plan = zkinfer_verifier_contracts::plan::Plan::new(
        vk.cs(),
        vk.get_domain().get_quotient_poly_degree(),
    )
    .unwrap();
    let mut b = bytes.clone();
    b[plan.scalar(0)..plan.scalar(1)].fill(0xff);
    assert_reverts_with(&v, &case, &b, &instances, "InvalidScalar()");
    let mut b = bytes.clone();
    b[..32].copy_from_slice(&hex::decode(BASE_FIELD_ORDER).unwrap());
    assert_reverts_with(&v, &case, &b, &instances, "InvalidPoint()");
    let mut b = bytes.clone();
    b[63] ^= 1; // y of the first point: off the curve
    assert_reverts_with(&v, &case, &b, &instances, "InvalidPoint()");
    // The point at infinity, (0, 0), is a point (the GPU prover's unblinded lookup columns can
    // commit to it): it passes the point check, and this proof then fails the pairing.
    let mut b = bytes.clone();
    b[..64].fill(0);
    assert_rejected(&v, &case, &b, &instances, "first point at infinity");
    let out = run_raw(&v, &b, &instances).unwrap();
    assert!(!out.reverted, "(0, 0) refused as a point: {out:?}");
    let mut inst = instances.clone();
    inst.push(Fr::zero());
    assert_reverts_with(&v, &case, &bytes, &inst, "InvalidInstances()");
    let mut b = bytes.clone();
    b.extend_from_slice(&[0; 32]);
    assert_reverts_with(&v, &case, &b, &instances, "InvalidProofLength()");
    assert_rejected(&v, &case, &bytes, &instances[1..], "missing instance");

    let figures = json!({
        "verifier_runtime_sha256": hex::encode(Sha256::digest(&v.compiled.runtime)),
        "verifier_runtime_bytes": v.compiled.runtime.len(),
        "vk_blob_sha256": hex::encode(Sha256::digest(&v.generated.vk_blob)),
        "execution_gas": execution_gas,
        "gas": ok.gas,
        "proof_bytes": bytes.len(),
        "logrows": case.settings.logrows,
    });
    eprintln!("{model}: {figures}");
    check_golden(model, figures);
    ok.gas
}

#[test]
fn mlp_iris_evm() {
    evm_model("mlp_iris");
}

#[test]
fn mlp_digits_evm() {
    evm_model("mlp_digits");
}

#[test]
fn cnn_digits_evm() {
    evm_model("cnn_digits");
}

#[test]
fn linreg_diabetes_evm() {
    evm_model("linreg_diabetes");
}

#[test]
fn logreg_breast_cancer_evm() {
    evm_model("logreg_breast_cancer");
}

#[test]
fn self_contained_verifier_with_public_input() {
    let case = prove_model("mlp_iris", true);
    let vk = case.keys.pk.get_vk();
    let v = create_verifier(&case.settings, &case.keys.srs, vk, true).unwrap();
    assert!(v.generated.vk_deploy.is_empty());
    let bytes = case.proof.bytes().unwrap();
    let instances = case.proof.instances();
    let ok = run_raw(&v, &bytes, &instances).unwrap();
    assert!(ok.verified, "{ok:?}");
    eprintln!(
        "mlp_iris self-contained, public input: {} gas, runtime {} bytes",
        ok.gas,
        v.compiled.runtime.len()
    );
    let last = instances.len() - 1;
    let mut inst = instances.clone();
    inst[last] = -inst[last];
    assert_rejected(&v, &case, &bytes, &inst, "public input changed");
}

#[test]
fn one_verifier_serves_models_of_one_shape() {
    use zkinfer_verifier_contracts::{abi, deploy, Chain};
    let iris = prove_model("mlp_iris", false);
    let lin = prove_model("linreg_diabetes", false);
    let v_iris =
        create_verifier(&iris.settings, &iris.keys.srs, iris.keys.pk.get_vk(), false).unwrap();
    let v_lin = create_verifier(&lin.settings, &lin.keys.srs, lin.keys.pk.get_vk(), false).unwrap();
    assert_eq!(v_iris.compiled.runtime, v_lin.compiled.runtime);
    let mut chain = Chain::new();
    let verifier = deploy(&mut chain, &v_iris.generated, &v_iris.compiled).unwrap();
    let (lin_vk, _) = chain.deploy(v_lin.generated.vk_deploy.clone()).unwrap();
    let call = abi::verify_with_key_calldata(
        lin_vk.into_array(),
        &lin.proof.bytes().unwrap(),
        &lin.proof.instances(),
    );
    let out = chain.call(verifier, call).unwrap();
    assert!(out.verified, "{out:?}");
    // The iris key does not verify the linreg proof.
    let call = abi::verify_calldata(&lin.proof.bytes().unwrap(), &lin.proof.instances());
    let out = chain.call(verifier, call).unwrap();
    assert!(!out.verified && !out.halted);
}

#[test]
fn cli_create_verifier_verify_evm_calldata() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof) = cli_proven_iris(tmp.path());
    let (d, p) = (dir.to_str().unwrap(), proof.to_str().unwrap());
    let out = zkinfer_cli(&["create-verifier", d, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["insecure_srs"], true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("development SRS"));
    for f in [
        "Verifier.sol",
        "Verifier.abi.json",
        "Verifier.bytecode",
        "VerifyingKey.bytecode",
    ] {
        assert!(dir.join("evm").join(f).exists(), "{f}");
    }
    // The NatSpec says the key comes from the insecure development SRS.
    let sol = std::fs::read_to_string(dir.join("evm/Verifier.sol")).unwrap();
    assert!(sol.contains("@custom:srs") && sol.contains("INSECURE"));
    let out = zkinfer_cli(&["verify-evm", d, "--proof", p, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["insecure_srs"], true);
    assert!(v["gas"].as_u64().unwrap() > 21_000);
    assert!(v["verifier_runtime_bytes"].as_u64().unwrap() <= 24_576);
    // The self-contained form verifies the same proof, without the key contract's call.
    let out = zkinfer_cli(&["verify-evm", d, "--proof", p, "--self-contained", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let sc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sc["verified"], true);
    assert!(sc["gas"].as_u64().unwrap() < v["gas"].as_u64().unwrap());

    let out = zkinfer_cli(&["calldata", d, "--proof", p]);
    assert!(out.status.success());
    let hex_text = String::from_utf8(out.stdout).unwrap();
    let selector = selector("verifyProof(bytes,uint256[])");
    assert!(hex_text.trim().starts_with(&format!("0x{selector}")));

    // A flipped proof byte: exit 1, verified false.
    let mut pj: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let mut b = hex::decode(pj["proof"].as_str().unwrap()).unwrap();
    b[1000] ^= 0x40;
    pj["proof"] = Value::String(hex::encode(b));
    std::fs::write(&proof, pj.to_string()).unwrap();
    let out = zkinfer_cli(&["verify-evm", d, "--proof", p, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
}

/// An installed binary (copied out of `target/`, run from outside the checkout, its solc
/// cache and home empty) compiles a verifier with the solc-js it finds, and where there is
/// none fails with the one command that installs it.
#[test]
fn installed_binary_finds_solc_or_names_the_npm_command() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let bin = t.join("bin/zkinfer");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_zkinfer"), &bin).unwrap();
    // Compiled and set up (and proven) with the checkout's binary, in `t/iris`.
    cli_proven_iris(t);
    // A fresh solc cache (a cached compilation needs no solc) and home, no XDG_DATA_HOME.
    let create = |node_modules: Option<&Path>, out: &str| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.current_dir(t)
            .env("ZKINFER_CACHE", t.join(format!("cache-{out}")))
            .env("HOME", t.join("home"))
            .env_remove("XDG_DATA_HOME")
            .env_remove("ZKINFER_NODE_MODULES")
            .args(["create-verifier", "iris", "--out", out]);
        if let Some(d) = node_modules {
            cmd.env("ZKINFER_NODE_MODULES", d);
        }
        cmd.output().unwrap()
    };
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier-contracts/node_modules");
    // Pointed at the checkout's solc-js: a verifier.
    let out = create(Some(&checkout), "evm-pointed");
    assert!(out.status.success(), "{out:?}");
    assert!(t.join("evm-pointed/Verifier.bytecode").exists());
    // Unset: found in the checkout (this binary's), from any current directory.
    let out = create(None, "evm-unset");
    assert!(out.status.success(), "{out:?}");
    assert!(t.join("evm-unset/Verifier.bytecode").exists());
    // Pointed at an empty node_modules: an error naming the command that fills it.
    let empty = t.join("empty/node_modules");
    std::fs::create_dir_all(&empty).unwrap();
    let out = create(Some(&empty), "evm-empty");
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let version = zkinfer_verifier_contracts::solc::solc_version();
    let command = format!(
        "npm install --prefix {} solc@{version}",
        t.join("empty").display()
    );
    assert!(stderr.contains(&command), "{stderr}");
    assert!(!t.join("evm-empty/Verifier.bytecode").exists());
}

fn selector(sig: &str) -> String {
    hex::encode(zkinfer_verifier_contracts::abi::selector(sig))
}

/// Gas per phase of the generated verifier (run with `--ignored --nocapture`): the code
/// returns early before each phase's comment; Cancun rules, so that the calldata floor of
/// EIP-7623 does not hide the early phases.
#[test]
#[ignore = "a measurement, not a check"]
fn gas_profile() {
    use zkinfer_verifier_contracts::{deploy_and_verify, generate, solc, Chain, CONTRACT};
    let case = prove_model("mlp_iris", false);
    let vk = case.keys.pk.get_vk();
    let g = generate(
        &case.keys.srs.params,
        vk,
        case.proof.instances().len(),
        false,
        &case.keys.srs.origin.describe(),
    )
    .unwrap();
    let (bytes, inst) = (case.proof.bytes().unwrap(), case.proof.instances());
    let mut last = 0;
    for marker in [
        "// 1. Verifying key",
        "// 2. Lengths",
        "// 3. Transcript",
        "// 4. Points",
        "// 5. Lagrange",
        "// 6. The quotient",
        "// 7. SHPLONK",
        "msm_term(1, 2",
        "// e(W'",
        "",
    ] {
        let src = if marker.is_empty() {
            g.solidity.clone()
        } else {
            let early = format!("mstore(0, 1) return(0, 0x20)\n{marker}");
            g.solidity.replacen(marker, &early, 1)
        };
        let compiled = solc::compile(&src, CONTRACT).unwrap();
        let mut chain = Chain::with_spec(revm::primitives::hardfork::SpecId::CANCUN);
        let out = deploy_and_verify(&mut chain, &g, &compiled, &bytes, &inst).unwrap();
        eprintln!("up to {marker:20} {:8} (+{})", out.gas, out.gas - last);
        last = out.gas;
    }
}
