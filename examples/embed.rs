//! zkinfer as a library: the program a crate consumer copies. Every path is `zkinfer::…`;
//! the crate is the only dependency it needs (and `anyhow`, for `main`).
//!
//! ```text
//! cargo run --release --example embed
//! ```
//!
//! Compiles the bundled digit classifier (`models/mlp_digits`, built in as
//! `zkinfer::bundled`), sets up keys from the development SRS (insecure: for testing only;
//! a real deployment passes a ceremony's params file to `setup`), proves one inference,
//! verifies it natively and shows that a proof with a changed output is rejected, then
//! generates the Solidity verifier and runs the proof through it in an in-process EVM. The
//! verifier is compiled with solc-js: `npm ci` in `verifier-contracts/` (scripts/test.sh does
//! it), or `ZKINFER_NODE_MODULES` naming a `node_modules` that holds the `solc` package.

use std::time::Instant;
use zkinfer::evm::{self, EvmOutcome, EvmVerifier};
use zkinfer::{
    bundled, compile, prove, setup, verify, Fr, G1Affine, Keys, Model, Proof, Settings, Verdict,
    VerifyingKey, Visibility,
};

fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    let model = Model::from_bytes(bundled::MLP_DIGITS_ONNX)?;
    let input = zkinfer::input::parse_inputs(bundled::MLP_DIGITS_INPUT, "bundled input")?;
    // The input doubles as the calibration sample that fixes the fixed-point scales.
    let settings: Settings = compile(&model, std::slice::from_ref(&input), Visibility::default())?;
    println!(
        "compile: {:.2} s, {} rows, logrows {}",
        start.elapsed().as_secs_f64(),
        settings.rows,
        settings.logrows
    );

    let start = Instant::now();
    let keys: Keys = setup(&settings, None, &zkinfer::default_cache_dir())?;
    println!(
        "setup:   {:.2} s, 2^{} SRS points",
        start.elapsed().as_secs_f64(),
        settings.logrows
    );

    let proof: Proof = prove(&settings, &keys, &input)?;
    println!(
        "prove:   {:.2} s, proof {} bytes, {} public instances",
        proof.prove_seconds,
        proof.bytes()?.len(),
        proof.instances().len()
    );

    let vk: &VerifyingKey<G1Affine> = keys.pk.get_vk();
    let start = Instant::now();
    let outputs = match verify(&settings, &keys.srs, vk, &proof)? {
        Verdict::Verified(v) => {
            println!(
                "verify:  {:.3} s, verified under the {}",
                start.elapsed().as_secs_f64(),
                v.srs.describe()
            );
            v.outputs
        }
        rejected => anyhow::bail!("honest proof rejected: {:?}", rejected.reason()),
    };
    let float = model.reference_outputs(&input)?;
    let max_err = outputs
        .iter()
        .zip(&float)
        .map(|(q, f)| (q - f64::from(*f)).abs())
        .fold(0.0, f64::max);
    let digit = argmax(&outputs);
    println!(
        "         digit {digit} (logit {:.4}); max abs error against tract's float inference {max_err:.2e}",
        outputs[digit]
    );

    // An adversary's proof: the same proof bytes, claiming digit 0 won.
    let mut forged = proof.clone();
    forged.public_outputs[0] = proof.public_outputs.iter().max().copied().unwrap_or(0) + 1;
    match verify(&settings, &keys.srs, vk, &forged)? {
        Verdict::Verified(_) => anyhow::bail!("a proof with a changed output was accepted"),
        rejected => println!(
            "forged:  digit 0 claimed -> rejected ({})",
            rejected.reason().unwrap_or("no reason given")
        ),
    }

    let verifier: EvmVerifier = evm::create_verifier(&settings, &keys.srs, vk, true)?;
    println!(
        "solidity: Verifier.sol {} bytes, runtime code {} bytes (EIP-170 limit {})",
        verifier.generated.solidity.len(),
        verifier.compiled.runtime.len(),
        zkinfer::verifier_contracts::solc::MAX_RUNTIME_BYTES
    );
    let outcome: EvmOutcome = evm::verify_evm_checked(&settings, vk, &verifier, &proof)?;
    println!(
        "evm:     verifyProof -> {}, {} gas, calldata {} bytes",
        outcome.verified,
        outcome.gas,
        evm::calldata(&proof)?.len()
    );
    anyhow::ensure!(
        outcome.verified,
        "the EVM verifier rejected an honest proof"
    );
    let instances: Vec<Fr> = forged.instances();
    let forged_outcome = evm::run_raw(&verifier, &forged.bytes()?, &instances)?;
    println!(
        "evm:     forged digit 0 -> verified {}, reverted {}",
        forged_outcome.verified, forged_outcome.reverted
    );
    anyhow::ensure!(
        !forged_outcome.verified,
        "the EVM verifier accepted a forged output"
    );
    Ok(())
}

fn argmax(values: &[f64]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0)
}
