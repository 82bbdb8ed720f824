//! The command line's arguments (clap): the commands and their options.

use crate::cli_backend;
use crate::cli_calibration::{NonlinearArg, TargetArg};
use crate::cli_model;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "zkinfer",
    version,
    about = "Zero-knowledge proofs of ONNX inference (halo2, KZG on BN254)"
)]
pub struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Quantize an ONNX model and size its circuit into DIR.
    Compile {
        /// ONNX model.
        model: PathBuf,
        /// Calibration input file(s) (JSON), repeatable: the fixed point is chosen so that
        /// every value they produce fits. A float model needs these or --calibrated.
        #[arg(long)]
        calibration: Vec<PathBuf>,
        /// A calibration file from `zkinfer calibrate` (scales and samples).
        #[arg(long, conflicts_with = "calibration")]
        calibrated: Option<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Make the input a public instance.
        #[arg(long)]
        public_input: bool,
        #[command(flatten)]
        model_args: cli_model::ModelArgs,
        #[command(flatten)]
        layout: cli_model::LayoutArgs,
    },
    /// Generate keys for a compiled DIR (development SRS unless --srs is given).
    Setup {
        /// Compiled directory.
        dir: PathBuf,
        /// SRS params file.
        #[arg(long)]
        srs: Option<PathBuf>,
    },
    /// Prove inference of an input.
    Prove {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the proof.
        #[arg(long)]
        proof: PathBuf,
        #[command(flatten)]
        backend: cli_backend::BackendArgs,
    },
    /// Verify a proof (exit 0 valid, 1 rejected).
    Verify {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
    },
    /// Choose a float model's scales per tensor on a data set; writes a calibration file for
    /// `compile --calibrated` and explains the choice.
    Calibrate {
        #[command(flatten)]
        data: DataArgs,
        /// Calibration file to write.
        #[arg(long, default_value = "calibration.json")]
        out: PathBuf,
    },
    /// Compare the quantized model (what the circuit proves) with float inference on a data
    /// set: top-1 agreement, output errors and a per-layer error table.
    Accuracy {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Benchmark a model, or every model directory in a directory: compile (calibrated on
    /// its inputs/), set up, prove its first input, verify; writes bench.json and bench.md
    /// into --out and prints the table (rows, rows per multiply-accumulate, seconds, peak
    /// memory, bytes, gas with --evm, max abs error against ref_outputs/).
    Bench(BenchArgs),
    /// Import a snarkjs Powers-of-Tau file (bn128 `.ptau`) as SRS params for `--srs`.
    ImportSrs {
        /// The `.ptau` file.
        ptau: PathBuf,
        /// Where to write the SRS file (parameters and origin, checksummed together).
        #[arg(long)]
        out: PathBuf,
        /// Keep only 2^LOGROWS powers (default: all the file has).
        #[arg(long)]
        logrows: Option<u32>,
    },
    /// Generate and compile the Solidity verifier of a set-up DIR: Verifier.sol, its ABI and
    /// bytecode, and the verifying-key contract.
    CreateVerifier {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Output directory; default DIR/evm.
        #[arg(long)]
        out: Option<PathBuf>,
        /// One self-contained contract with the key embedded (no VK contract).
        #[arg(long)]
        self_contained: bool,
    },
    /// Verify a proof with the generated verifier in an in-process EVM (exit 0 valid, 1
    /// rejected); reports gas.
    VerifyEvm {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
        /// Use the self-contained verifier (key embedded) instead of verifier + VK contract.
        #[arg(long)]
        self_contained: bool,
    },
    /// Deploy the verifying-key contract and the verifier to a chain through its JSON-RPC
    /// endpoint (or, with --verifier, only the key contract); appends the deployment, bound
    /// to the settings and key, to DIR/evm/deployment.json.
    Deploy {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// JSON-RPC endpoint (`http://…`).
        #[arg(long)]
        rpc_url: String,
        #[command(flatten)]
        key: KeyArgs,
        /// A verifier already on chain (one serves every key of its circuit shape): deploy
        /// only the key contract, and call it through `verifyProof(key, …)`.
        #[arg(long)]
        verifier: Option<String>,
        /// Deploy even if DIR was set up with the development SRS (anyone can forge proofs
        /// under it): on a local node or a public test network only (31337, 1337, Sepolia,
        /// Holesky, Hoodi and the Base, OP, Arbitrum and Polygon testnets; any other chain is
        /// refused).
        #[arg(long)]
        allow_insecure_srs: bool,
    },
    /// Verify a proof with a deployed verifier (`eth_call`; exit 0 valid, 1 rejected), after
    /// checking that the code of the verifier and key contracts is what DIR's key generates;
    /// with `--send`, also as a mined transaction, reporting its gas.
    VerifyOnchain {
        /// Compiled directory.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
        /// JSON-RPC endpoint (`http://…`).
        #[arg(long)]
        rpc_url: String,
        /// Verifier address; default: the newest deployment of DIR's settings and key on
        /// that chain, from DIR/evm/deployment.json.
        #[arg(long)]
        address: Option<String>,
        /// With --address: the key contract to name in `verifyProof(key, …)` (a verifier
        /// shared by keys of one circuit shape).
        #[arg(long)]
        key: Option<String>,
        /// Send the call as a transaction (needs a private key).
        #[arg(long)]
        send: bool,
        #[command(flatten)]
        signer: KeyArgs,
    },
    /// Print the hex calldata of `verifyProof(bytes proof, uint256[] instances)`.
    Calldata {
        /// Compiled directory.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
    },
    /// Compile (calibrated on the input), set up, prove and verify in one go.
    Run(RunArgs),
}

/// A float model and the data set `calibrate` and `accuracy` choose its scales on.
#[derive(clap::Args)]
pub struct DataArgs {
    /// ONNX model (float).
    pub model: PathBuf,
    /// Directory of input JSON files (the calibration set).
    #[arg(long)]
    pub data: PathBuf,
    /// What to optimize.
    #[arg(long, value_enum, default_value = "balanced")]
    pub target: TargetArg,
    /// How nonlinear functions are proven.
    #[arg(long, value_enum, default_value = "auto")]
    pub nonlinear: NonlinearArg,
    #[command(flatten)]
    pub model_args: cli_model::ModelArgs,
}

/// `zkinfer bench`'s arguments.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// An ONNX file, a model directory (model.onnx, inputs/, optionally ref_outputs/), or a
    /// directory of model directories.
    pub path: PathBuf,
    /// Where each model's artifacts, bench.json and bench.md go.
    #[arg(long, default_value = "bench-out")]
    pub out: PathBuf,
    /// Calibrate a float model on at most this many of its inputs.
    #[arg(long, default_value_t = 8)]
    pub calibration_samples: usize,
    /// Also generate the Solidity verifier and verify in an in-process EVM, for the gas.
    #[arg(long)]
    pub evm: bool,
    #[command(flatten)]
    pub backend: cli_backend::BackendArgs,
    #[command(flatten)]
    pub model_args: cli_model::ModelArgs,
    #[command(flatten)]
    pub layout: cli_model::LayoutArgs,
}

/// `zkinfer run`'s arguments.
#[derive(clap::Args)]
pub struct RunArgs {
    /// ONNX model; default: the bundled mlp_digits.
    pub model: Option<PathBuf>,
    /// Input JSON; default: the bundled sample.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Directory for artifacts; default: a temporary one.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Make the input a public instance.
    #[arg(long)]
    pub public_input: bool,
    /// SRS params file.
    #[arg(long)]
    pub srs: Option<PathBuf>,
    #[command(flatten)]
    pub backend: cli_backend::BackendArgs,
    #[command(flatten)]
    pub model_args: cli_model::ModelArgs,
    #[command(flatten)]
    pub layout: cli_model::LayoutArgs,
}

/// The private key of the account that signs transactions.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// Hex private key (visible to other users of this machine in the process list: prefer
    /// --private-key-file or ZKINFER_PRIVATE_KEY).
    #[arg(long, conflicts_with = "private_key_file")]
    pub private_key: Option<String>,
    /// A file holding the hex private key.
    #[arg(long)]
    pub private_key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The key: --private-key, else --private-key-file, else `$ZKINFER_PRIVATE_KEY`.
    pub fn get(&self) -> Result<Option<String>> {
        if let Some(k) = &self.private_key {
            return Ok(Some(k.clone()));
        }
        if let Some(path) = &self.private_key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--private-key-file {}", path.display()))?;
            return Ok(Some(text.trim().to_string()));
        }
        Ok(std::env::var("ZKINFER_PRIVATE_KEY").ok())
    }

    pub fn required(&self, why: &str) -> Result<String> {
        self.get()?.ok_or_else(|| {
            anyhow::anyhow!(
                "{why} needs a private key: --private-key-file FILE, $ZKINFER_PRIVATE_KEY or \
                 --private-key KEY"
            )
        })
    }
}
