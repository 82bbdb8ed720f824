//! `--backend cpu|cuda` of `prove` and `run`: the CUDA path (the `zkinfer-cuda` child
//! process, [`zkinfer::backend`]). The CPU path stays in `main.rs`, unchanged.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::Path;
use zkinfer::artifacts::{check_output_file, write_json, ModelDir};
use zkinfer::backend::{CudaProver, CudaReport};
use zkinfer::{Keys, Proof, Settings};

/// Which prover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// halo2-axiom's CPU prover, in this process.
    Cpu,
    /// halo2-axiom-gpu in the `zkinfer-cuda` binary (next to zkinfer, or $ZKINFER_CUDA_BIN).
    Cuda,
}

/// The backend options of `prove` and `run`.
#[derive(Args, Clone, Debug)]
pub struct BackendArgs {
    /// Prover backend: cpu, or cuda (the zkinfer-cuda binary next to zkinfer, or
    /// $ZKINFER_CUDA_BIN; built by scripts/build-cuda.sh).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendArg,
    /// With --backend cuda: proofs in a row in the CUDA prover, for timing (the first pays
    /// the device's start-up and SRS upload); the last one is kept.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub cuda_runs: u32,
}

impl BackendArgs {
    /// The CUDA prover, if `--backend cuda`.
    pub fn cuda(&self) -> Result<Option<CudaProver>> {
        Ok(match self.backend {
            BackendArg::Cpu => None,
            BackendArg::Cuda => Some(CudaProver {
                runs: self.cuda_runs,
                ..CudaProver::locate()?
            }),
        })
    }
}

/// Where the input is private, warns that a GPU proof does not hide it: halo2-axiom-gpu 1.0.1
/// commits the lookup argument's permuted columns without blinding rows (its source leaves
/// that to a follow-up), so anyone who can guess the input can confirm the guess from the
/// proof (`--json` says `"zero_knowledge": false`). The CPU prover blinds every column.
pub fn warn_not_hiding(settings: &Settings) {
    if !settings.visibility.public_input {
        eprintln!(
            "warning: the CUDA prover (halo2-axiom-gpu 1.0.1) commits the lookup's permuted \
             columns without blinding, so this proof does not hide the private input from a \
             verifier who can guess it; prove with --backend cpu where the input must stay \
             private"
        );
    }
}

/// `zkinfer prove DIR --input INPUT --proof PROOF --backend cuda`: the child reads the keys
/// itself (the parent never loads them).
pub fn prove(json: bool, dir: &Path, input: &Path, proof: &Path, cuda: &CudaProver) -> Result<i32> {
    let d = ModelDir::open(dir)?;
    let settings = d.settings()?;
    check_output_file(proof).context("--proof")?;
    let inputs = crate::read_model_inputs(input, &settings)?;
    d.setup_info(&settings)?;
    let float = d.model(&settings)?.reference_outputs(&inputs)?;
    warn_not_hiding(&settings);
    let (p, report) = crate::step(json, "prove (cuda)", || cuda.prove(dir, &settings, &inputs))?.0;
    write_json(proof, &p)?;
    let mut value = crate::cli_pipeline::proved(&p, &float);
    value["backend"] = json!("cuda");
    value["zero_knowledge"] = json!(false);
    value["cuda"] = json!(report);
    crate::report(json, value);
    Ok(0)
}

/// The proving step of `zkinfer run --backend cuda`: the keys go to `out` (or a temporary
/// directory) for the child to read.
pub fn prove_run(
    json: bool,
    out: Option<&Path>,
    settings: &Settings,
    keys: &Keys,
    inputs: &[Vec<f32>],
    cuda: &CudaProver,
) -> Result<(Proof, CudaReport)> {
    warn_not_hiding(settings);
    let tmp;
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => {
            tmp = TempDir::new()?;
            let d = ModelDir::new(&tmp.0)?;
            write_json(&tmp.0.join("settings.json"), settings)?;
            d.write_keys(settings, keys)?;
            tmp.0.clone()
        }
    };
    Ok(crate::step(json, "prove (cuda)", || cuda.prove(&dir, settings, inputs))?.0)
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let path = std::env::temp_dir().join(format!("zkinfer-run-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
