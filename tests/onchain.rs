//! On a real node: anvil (npm `@foundry-rs/anvil-linux-amd64`, started on 127.0.0.1 by the
//! test). The verifier and its VK contract are deployed with alloy; valid proofs verify by
//! `eth_call` and as mined transactions; every corruption of `tests/evm.rs` is rejected (a
//! revert or `false`); the CLI's `deploy` and `verify-onchain` work end to end, deployments
//! are recorded bound to their settings and a verifier is shared by keys of one shape; the
//! JavaScript example (`verifier-contracts/examples/verify-onchain.mjs`, ethers) verifies and
//! reads the outputs; and the example consumer contract `examples/DigitRegistry.sol` records
//! a digit only with a proof.

#[path = "common/anvil.rs"]
mod anvil;
#[path = "common/evm_case.rs"]
mod evm_case;

use anvil::{Anvil, DEV_KEY};
use evm_case::{cli_proven_iris, corruptions, prove_model, zkinfer_cli as zkinfer};
use serde_json::Value;
use zkinfer::evm::{create_verifier, run_raw};
use zkinfer_chain::{Address, Node};
use zkinfer_verifier_contracts::{abi, solc};

#[test]
fn zoo_verifiers_accept_valid_and_reject_corrupted_proofs_on_anvil() {
    let anvil = Anvil::start();
    let node = anvil.node();
    for model in ["mlp_iris", "mlp_digits", "cnn_digits", "linreg_diabetes"] {
        let case = prove_model(model, false);
        let vk = case.keys.pk.get_vk();
        let v = create_verifier(&case.settings, &case.keys.srs, vk, false).unwrap();
        let dep = node.deploy_verifier(&v.generated, &v.compiled).unwrap();
        let at = dep.verifier.address;
        let (bytes, instances) = (case.proof.bytes().unwrap(), case.proof.instances());

        let call = node.verify(at, None, &bytes, &instances).unwrap();
        assert!(call.verified, "{model}: {call:?}");
        let sent = node.verify_tx(at, None, &bytes, &instances).unwrap();
        assert!(sent.verified, "{model}: {sent:?}");
        let gas = sent.gas_used.unwrap();
        // The same transaction as in revm (Osaka): the same gas.
        let revm = run_raw(&v, &bytes, &instances).unwrap();
        assert_eq!(gas, revm.gas, "{model}: anvil and revm disagree on gas");

        for (what, b, inst) in corruptions(&bytes, &instances) {
            let out = node.verify(at, None, &b, &inst).unwrap();
            assert!(!out.verified, "{model}: {what} accepted on anvil");
        }
        let vk_gas = dep.verifying_key.as_ref().map_or(0, |d| d.gas_used);
        eprintln!(
            "{model}: deploy gas VK {vk_gas} + verifier {}, verifyProof tx {gas}",
            dep.verifier.gas_used
        );
    }
}

#[test]
fn cli_deploy_and_verify_onchain() {
    let anvil = Anvil::start();
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof) = cli_proven_iris(tmp.path());
    let (d, p) = (dir.to_str().unwrap(), proof.to_str().unwrap());
    let url = anvil.url.as_str();
    // The directory was set up with the development SRS: refused without the flag, nothing
    // deployed or written.
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", d, "--rpc-url", url, "--private-key", DEV_KEY];
        args.extend_from_slice(extra);
        zkinfer(&args)
    };
    let msg = refused_with(&deploy(&["--json"]));
    assert!(
        msg.contains("development SRS") && msg.contains("--allow-insecure-srs"),
        "{msg}"
    );
    assert!(!dir.join("evm/deployment.json").exists());
    let out = deploy(&["--allow-insecure-srs", "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: "));
    let dep: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dep["insecure_srs"], true);
    assert_eq!(dep["chain_id"], 31337);
    let mined = dep["transactions"].as_array().unwrap();
    assert!(mined.iter().all(|t| t["gas_used"].as_u64().unwrap() > 0));
    assert!(dir.join("evm/deployment.json").exists());

    let verify_onchain = |extra: &[&str]| {
        let mut args = vec!["verify-onchain", d, "--proof", p, "--rpc-url", url];
        args.extend_from_slice(extra);
        zkinfer(&args)
    };
    // The address comes from DIR/evm/deployment.json.
    let out = verify_onchain(&["--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["insecure_srs"], true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("development SRS"));
    let out = verify_onchain(&["--send", "--private-key", DEV_KEY, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["gas_used"].as_u64().unwrap() > 21_000, "{v}");

    // An address without code: a clear error, not a verdict.
    let nowhere = "0x00000000000000000000000000000000000000aa";
    let out = verify_onchain(&["--address", nowhere]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("no contract there"), "{err}");

    // A contract answering `true` to everything, as the verifier or as its key: refused from
    // its code before it is asked, never "verified".
    let yes = always_true(url);
    let verifier = dep["verifier"].as_str().unwrap();
    for (args, refused) in [
        (
            vec!["--address", &yes],
            "is not the verifier of this circuit",
        ),
        (
            vec!["--address", verifier, "--key", &yes],
            "is not this directory's verifying-key contract",
        ),
    ] {
        let out = verify_onchain(&args);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(refused) && !err.contains("verified"), "{err}");
    }
    // A self-contained verifier (the key embedded) deployed by hand is recognised too.
    let sc = tmp.path().join("sc");
    let out = zkinfer(&[
        "create-verifier",
        d,
        "--self-contained",
        "--out",
        sc.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let init = hex::decode(std::fs::read_to_string(sc.join("Verifier.bytecode")).unwrap()).unwrap();
    let node = Node::new(url).unwrap().with_key(DEV_KEY).unwrap();
    let embedded = format!(
        "{:#x}",
        node.deploy("self-contained", init).unwrap().address
    );
    let out = verify_onchain(&["--address", &embedded, "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["verified"], true);
    let out = verify_onchain(&["--address", &embedded, "--key", &yes]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("call it without --key"));

    // The contract itself answers `true`: only its code gave it away.
    let answer = Node::new(url)
        .unwrap()
        .call(yes.parse().unwrap(), vec![0; 4])
        .unwrap()
        .unwrap();
    assert!(abi::is_true(&answer));

    // A tampered proof: exit 1, verified false.
    let mut pj: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let mut b = hex::decode(pj["proof"].as_str().unwrap()).unwrap();
    b[1000] ^= 0x40;
    pj["proof"] = Value::String(hex::encode(b));
    std::fs::write(&proof, pj.to_string()).unwrap();
    let out = verify_onchain(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);

    // An endpoint where nothing listens: an error naming it.
    let out = zkinfer(&[
        "deploy",
        d,
        "--rpc-url",
        "http://127.0.0.1:9",
        "--private-key",
        DEV_KEY,
        "--allow-insecure-srs",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:9"));
}

/// Even with `--allow-insecure-srs`, a verifier under the development SRS is refused on a
/// chain that is not a local node or a public test network (anvil posing as mainnet, chain
/// id 1): `deploy` writes nothing, `verify-onchain` refuses before asking.
#[test]
fn insecure_srs_is_refused_on_mainnet_even_when_allowed() {
    let anvil = Anvil::start_with(&["--chain-id", "1"]);
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof) = cli_proven_iris(tmp.path());
    let (d, p) = (dir.to_str().unwrap(), proof.to_str().unwrap());
    let url = anvil.url.as_str();
    let out = zkinfer(&[
        "deploy",
        d,
        "--rpc-url",
        url,
        "--private-key",
        DEV_KEY,
        "--allow-insecure-srs",
        "--json",
    ]);
    let msg = refused_with(&out);
    assert!(
        msg.contains("development SRS") && msg.contains("chain 1 is not a local node"),
        "{msg}"
    );
    assert!(!dir.join("evm/deployment.json").exists());
    let nowhere = "0x00000000000000000000000000000000000000aa";
    let out = zkinfer(&[
        "verify-onchain",
        d,
        "--proof",
        p,
        "--rpc-url",
        url,
        "--address",
        nowhere,
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chain 1 is not a local node"), "{err}");
}

/// Deploys a contract that returns the word 1 (ABI `true`) to every call; its address.
fn always_true(url: &str) -> String {
    // Runtime: PUSH1 1, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN. Init: copy it, return it.
    let runtime = [0x60, 0x01, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let mut init = vec![
        0x60, 0x0a, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x0a, 0x60, 0x00, 0xf3,
    ];
    init.extend_from_slice(&runtime);
    let node = Node::new(url).unwrap().with_key(DEV_KEY).unwrap();
    format!("{:#x}", node.deploy("always-true", init).unwrap().address)
}

/// `uint256`-word calldata of `sig` with the given arguments.
fn call_words(sig: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut data = abi::selector(sig).to_vec();
    for w in words {
        data.extend_from_slice(w);
    }
    data
}

fn word(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn read_word(node: &Node, at: Address, data: Vec<u8>) -> u64 {
    let out = node.call(at, data).unwrap().expect("view call");
    u64::from_be_bytes(out[24..32].try_into().unwrap())
}

#[test]
fn digit_registry_records_only_proven_digits() {
    let anvil = Anvil::start();
    let node = anvil.node();
    let case = prove_model("mlp_digits", false);
    let vk = case.keys.pk.get_vk();
    let v = create_verifier(&case.settings, &case.keys.srs, vk, false).unwrap();
    let verifier = node.deploy_verifier(&v.generated, &v.compiled).unwrap();

    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/DigitRegistry.sol"),
    )
    .unwrap();
    let registry = solc::compile(&source, "DigitRegistry").unwrap();
    let mut init = registry.bytecode.clone();
    init.extend_from_slice(&abi::address_word(verifier.verifier.address.into_array()));
    let at = node.deploy("DigitRegistry", init).unwrap().address;

    let (bytes, instances) = (case.proof.bytes().unwrap(), case.proof.instances());
    let record = |proof: &[u8]| abi::proof_calldata("record(bytes,uint256[])", proof, &instances);
    let (_, gas, ok) = node.transact(at, record(&bytes)).unwrap();
    assert!(ok);
    let want = case
        .proof
        .outputs
        .iter()
        .enumerate()
        .fold(0, |best, (i, v)| {
            if *v > case.proof.outputs[best] {
                i
            } else {
                best
            }
        });
    assert_eq!(read_word(&node, at, call_words("count()", &[])), 1);
    let digit = read_word(&node, at, call_words("digits(uint256)", &[word(0)]));
    assert_eq!(digit, want as u64, "recorded digit");
    eprintln!("DigitRegistry.record: {gas} gas, digit {digit}");

    // A tampered proof: the call reverts (ProofRejected, or the verifier's own error) and
    // nothing is recorded.
    let mut forged = bytes.clone();
    forged[1000] ^= 0x40;
    let reverted = node.call(at, record(&forged)).unwrap();
    assert!(reverted.is_err(), "a forged proof was recorded");
    let mut fewer = record(&bytes);
    fewer.truncate(fewer.len() - 32);
    assert!(node.call(at, fewer).unwrap().is_err());
    assert_eq!(read_word(&node, at, call_words("count()", &[])), 1);
}

/// The CLI with extra environment variables.
fn zkinfer_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"));
    cmd.args(args).env_remove("ZKINFER_PRIVATE_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The error message of a command refused with `--json` (exit 2).
fn refused_with(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    err["error"].as_str().unwrap().to_string()
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// mlp_digits compiled, set up and proven through the CLI in `tmp`: (dir, proof).
fn cli_proven_digits(tmp: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (digits, proof) = (tmp.join("digits"), tmp.join("digits.json"));
    let (dd, pd) = (digits.to_str().unwrap(), proof.to_str().unwrap());
    let zoo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zoo/mlp_digits");
    let (m, i) = (zoo.join("model.onnx"), zoo.join("inputs/input_00.json"));
    let (m, i) = (m.to_str().unwrap(), i.to_str().unwrap());
    for args in [
        vec!["compile", m, "--calibration", i, "--out", dd],
        vec!["setup", dd],
        vec!["prove", dd, "--input", i, "--proof", pd],
    ] {
        assert!(zkinfer(&args).status.success(), "{args:?}");
    }
    (digits, proof)
}

/// The JavaScript example (ethers) finds the deployments of each `(dir, proof)`, verifies, and
/// reads the outputs at their scales: the values `zkinfer verify` shows as verified; the
/// first proof with a flipped byte (written to `bad_path`) is rejected.
fn js_example_verifies(url: &str, dirs: &[(&str, &str)], bad_path: &std::path::Path) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("verifier-contracts/examples/verify-onchain.mjs");
    for &(d, p) in dirs {
        let js = json_of(
            &std::process::Command::new("node")
                .arg(&script)
                .args([url, d, p])
                .output()
                .unwrap(),
        );
        let cli = json_of(&zkinfer(&["verify", d, "--proof", p, "--json"]));
        assert_eq!(js["verified"], true, "{d}: {js}");
        assert_eq!(js["outputs"], cli["outputs"], "{d}");
    }
    let (dd, pd) = dirs[0];
    let mut bad: Value = serde_json::from_str(&std::fs::read_to_string(pd).unwrap()).unwrap();
    let mut b = hex::decode(bad["proof"].as_str().unwrap()).unwrap();
    b[1000] ^= 0x40;
    bad["proof"] = Value::String(hex::encode(b));
    std::fs::write(bad_path, bad.to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(&script)
        .args([url, dd, bad_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn cli_deployments_are_recorded_bound_to_their_settings_and_share_a_verifier() {
    let anvil = Anvil::start();
    let url = anvil.url.as_str();
    let tmp = tempfile::tempdir().unwrap();
    let (iris, iris_proof) = cli_proven_iris(tmp.path());
    let (di, pi) = (iris.to_str().unwrap(), iris_proof.to_str().unwrap());
    let (digits, digits_proof) = cli_proven_digits(tmp.path());
    let (dd, pd) = (digits.to_str().unwrap(), digits_proof.to_str().unwrap());
    let key_file = tmp.path().join("key.hex");
    std::fs::write(&key_file, format!("{DEV_KEY}\n")).unwrap();
    let kf = key_file.to_str().unwrap();

    // No key anywhere: an error naming the ways to give one.
    let out = zkinfer_env(
        &["deploy", di, "--rpc-url", url, "--allow-insecure-srs"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZKINFER_PRIVATE_KEY"));

    // iris: key contract and verifier, the key from a file.
    // The key from a file.
    let deploy_iris = || {
        json_of(&zkinfer_env(
            &[
                "deploy",
                di,
                "--rpc-url",
                url,
                "--private-key-file",
                kf,
                "--allow-insecure-srs",
                "--json",
            ],
            &[],
        ))
    };
    let first = deploy_iris();
    let verifier = first["verifier"].as_str().unwrap().to_string();
    assert_eq!(first["key"], Value::Null);
    assert_eq!(first["transactions"].as_array().unwrap().len(), 2);
    // digits: only its key contract, against iris's verifier (same circuit shape); the key
    // from the environment.
    let shared = json_of(&zkinfer_env(
        &[
            "deploy",
            dd,
            "--rpc-url",
            url,
            "--verifier",
            &verifier,
            "--allow-insecure-srs",
            "--json",
        ],
        &[("ZKINFER_PRIVATE_KEY", DEV_KEY)],
    ));
    assert_eq!(shared["verifier"].as_str().unwrap(), verifier);
    assert!(shared["key"].is_string());
    assert_eq!(shared["transactions"].as_array().unwrap().len(), 1);
    for (d, p) in [(dd, pd), (di, pi)] {
        let v = json_of(&zkinfer(&[
            "verify-onchain",
            d,
            "--proof",
            p,
            "--rpc-url",
            url,
            "--json",
        ]));
        assert_eq!(v["verified"], true, "{d}: {v}");
        assert_eq!(v["address"].as_str().unwrap(), verifier);
    }
    js_example_verifies(url, &[(dd, pd), (di, pi)], &tmp.path().join("bad.json"));
    // A second deployment of iris is added, not written over; the newest one is used.
    let second = deploy_iris();
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(iris.join("evm/deployment.json")).unwrap())
            .unwrap();
    assert_eq!(record["deployments"].as_array().unwrap().len(), 2);
    let v = json_of(&zkinfer(&[
        "verify-onchain",
        di,
        "--proof",
        pi,
        "--rpc-url",
        url,
        "--json",
    ]));
    assert_eq!(v["address"], second["verifier"]);
    // Compiled again (the input made public: other settings): the recorded deployments
    // belong to the old settings, and verify-onchain says so instead of reporting a
    // rejection.
    let iris_zoo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zoo/mlp_iris");
    let (m, i1) = (
        iris_zoo.join("model.onnx"),
        iris_zoo.join("inputs/input_01.json"),
    );
    for args in [
        vec![
            "compile",
            m.to_str().unwrap(),
            "--calibration",
            i1.to_str().unwrap(),
            "--out",
            di,
            "--public-input",
        ],
        vec!["setup", di],
        vec!["prove", di, "--input", i1.to_str().unwrap(), "--proof", pi],
    ] {
        assert!(zkinfer(&args).status.success(), "{args:?}");
    }
    let out = zkinfer(&["verify-onchain", di, "--proof", pi, "--rpc-url", url]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("records no deployment of these settings"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An https endpoint in front of `anvil` (`tests/common/tls_proxy.mjs`, the test certificate
/// of `tests/data/tls`): its URL, and the proxy process to kill.
fn tls_proxy(anvil: &Anvil) -> (String, std::process::Child) {
    use std::io::BufRead;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new("node")
        .arg(root.join("tests/common/tls_proxy.mjs"))
        .arg(root.join("tests/data/tls"))
        .arg(&anvil.url)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs the TLS proxy");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("the proxy prints its port");
    (format!("https://127.0.0.1:{port}"), child)
}

#[test]
fn cli_deploys_and_verifies_over_https() {
    let anvil = Anvil::start();
    let (url, mut proxy) = tls_proxy(&anvil);
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls/ca.pem");
    let tmp = tempfile::tempdir().unwrap();
    let (dir, proof) = cli_proven_iris(tmp.path());
    let (d, p) = (dir.to_str().unwrap(), proof.to_str().unwrap());
    let key = [("ZKINFER_PRIVATE_KEY", DEV_KEY)];
    // The test CA is no root of this machine: the certificate is refused, and said so.
    let out = zkinfer_env(
        &["deploy", d, "--rpc-url", &url, "--allow-insecure-srs"],
        &key,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("certificate"), "{err}");
    // Trusted through SSL_CERT_FILE: deployed and verified over TLS.
    let trusted = [key[0], ("SSL_CERT_FILE", ca.to_str().unwrap())];
    let dep = json_of(&zkinfer_env(
        &[
            "deploy",
            d,
            "--rpc-url",
            &url,
            "--allow-insecure-srs",
            "--json",
        ],
        &trusted,
    ));
    assert_eq!(dep["chain_id"], 31337);
    let v = json_of(&zkinfer_env(
        &[
            "verify-onchain",
            d,
            "--proof",
            p,
            "--rpc-url",
            &url,
            "--send",
            "--json",
        ],
        &trusted,
    ));
    assert_eq!(v["verified"], true, "{v}");
    assert!(v["gas_used"].as_u64().unwrap() > 21_000);
    proxy.kill().unwrap();
    let _ = proxy.wait();
}
