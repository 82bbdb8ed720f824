//! `zkinfer-cuda`: the CUDA prover of zkinfer, a child process of `zkinfer prove --backend
//! cuda` (protocol: [`zkinfer::backend`]).
//!
//! Built with the `cuda` feature (`scripts/build-cuda.sh`) it proves with halo2-axiom-gpu;
//! such a binary aborts before `main` on a machine without a usable GPU, which the parent
//! reports as "no usable GPU". Built without it (as the workspace's tests and lints build
//! it) it can still run the protocol with halo2-axiom's CPU prover (`--device cpu`, a test
//! mode), and `--device cuda` fails with "built without the cuda feature" (exit 2).
//!
//! ```text
//! zkinfer-cuda prove DIR --input INPUT.json --proof PROOF.json --report REPORT.json [--runs N] [--device cuda|cpu]
//! zkinfer-cuda srs --logrows K    # generate (and cache) the development SRS; prints its seconds
//! ```

#[cfg(feature = "cuda")]
mod gpu;
#[cfg(feature = "cuda")]
mod trace;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Instant;
use zkinfer::artifacts::{write_json, ModelDir};
use zkinfer::backend::{ChildReport, CudaFailure, CudaReport, PROTOCOL_VERSION};

#[derive(Parser)]
#[command(
    name = "zkinfer-cuda",
    version,
    about = "zkinfer's CUDA prover (run by `zkinfer prove --backend cuda`)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Device {
    /// halo2-axiom-gpu (needs the `cuda` feature and a GPU).
    Cuda,
    /// halo2-axiom's CPU prover: the same protocol without a GPU, for tests.
    Cpu,
}

#[derive(Subcommand)]
enum Cmd {
    /// Prove an input with the keys of a set-up model directory.
    Prove {
        /// Model directory with keys (`zkinfer setup`).
        dir: PathBuf,
        /// Input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the proof (the JSON `zkinfer prove` writes).
        #[arg(long)]
        proof: PathBuf,
        /// Where to write the report (`zkinfer::backend::ChildReport`).
        #[arg(long)]
        report: PathBuf,
        /// Proofs in a row (timing; the last is written).
        #[arg(long, default_value_t = 1)]
        runs: u32,
        /// Which prover; default `$ZKINFER_CUDA_DEVICE`, else `cuda`.
        #[arg(long, value_enum)]
        device: Option<Device>,
    },
    /// Generate and cache the development SRS for 2^LOGROWS rows (in $ZKINFER_CACHE); prints
    /// the seconds it took as JSON.
    Srs {
        /// Circuit size.
        #[arg(long)]
        logrows: u32,
    },
}

/// A failure, classified for the parent.
pub(crate) struct Failure {
    kind: CudaFailure,
    message: String,
}

impl Failure {
    pub(crate) fn new(kind: CudaFailure, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl From<zkinfer::Error> for Failure {
    fn from(e: zkinfer::Error) -> Self {
        match e {
            zkinfer::Error::Cuda { kind, detail } => Self::new(kind, detail),
            other => Self::new(CudaFailure::Failed, other.to_string()),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Prove {
            dir,
            input,
            proof,
            report,
            runs,
            device,
        } => {
            let device =
                device.unwrap_or_else(|| match std::env::var("ZKINFER_CUDA_DEVICE").as_deref() {
                    Ok("cpu") => Device::Cpu,
                    _ => Device::Cuda,
                });
            prove_cmd(&dir, &input, &proof, &report, runs.max(1), device)
        }
        Cmd::Srs { logrows } => {
            let start = Instant::now();
            match zkinfer_prover::Srs::dev(logrows, &zkinfer::default_cache_dir()) {
                Ok(_) => {
                    let secs = start.elapsed().as_secs_f64();
                    println!(
                        "{}",
                        serde_json::json!({ "logrows": logrows, "seconds": secs })
                    );
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    };
    std::process::exit(code);
}

fn prove_cmd(
    dir: &Path,
    input: &Path,
    proof: &Path,
    report_path: &Path,
    runs: u32,
    device: Device,
) -> i32 {
    let started = ChildReport::Started {
        protocol: PROTOCOL_VERSION,
    };
    if let Err(e) = write_json(report_path, &started) {
        eprintln!("error: {e}");
        return 2;
    }
    let outcome = prove(dir, input, proof, runs, device);
    let (report, code) = match outcome {
        Ok(report) => (
            ChildReport::Proved {
                protocol: PROTOCOL_VERSION,
                report,
            },
            0,
        ),
        Err(f) => {
            eprintln!("error: {}: {}", f.kind, f.message);
            (
                ChildReport::Failed {
                    protocol: PROTOCOL_VERSION,
                    kind: f.kind,
                    message: f.message,
                },
                2,
            )
        }
    };
    if let Err(e) = write_json(report_path, &report) {
        eprintln!("error: {e}");
        return 2;
    }
    code
}

fn prove(
    dir: &Path,
    input: &Path,
    proof_path: &Path,
    runs: u32,
    device: Device,
) -> Result<CudaReport, Failure> {
    if device == Device::Cuda && !cfg!(feature = "cuda") {
        let exe = std::env::current_exe().map(|p| p.display().to_string());
        return Err(Failure::new(
            CudaFailure::NotBuilt,
            format!(
                "{} cannot prove on a GPU (it links no halo2-axiom-gpu); build the CUDA \
                 prover with scripts/build-cuda.sh",
                exe.as_deref().unwrap_or("zkinfer-cuda")
            ),
        ));
    }
    let start = Instant::now();
    let d = ModelDir::new(dir)?;
    let settings = d.settings()?;
    let inputs = zkinfer::input::read_inputs(input)?;
    let keys = d.keys(&settings)?;
    let load_seconds = start.elapsed().as_secs_f64();
    let (proof, mut report) = match device {
        Device::Cpu => prove_cpu(&settings, &keys, &inputs, runs)?,
        #[cfg(feature = "cuda")]
        Device::Cuda => gpu::prove(&settings, &keys, &inputs, runs)?,
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => unreachable!("refused above"),
    };
    report.load_seconds = load_seconds;
    report.peak_rss_bytes = peak_rss_bytes();
    write_json(proof_path, &proof)?;
    Ok(report)
}

/// The protocol with halo2-axiom's CPU prover: what `zkinfer prove` computes, in the child.
fn prove_cpu(
    settings: &zkinfer::Settings,
    keys: &zkinfer::Keys,
    inputs: &[Vec<f32>],
    runs: u32,
) -> Result<(zkinfer::Proof, CudaReport), Failure> {
    let mut report = CudaReport {
        device: "cpu".into(),
        ..CudaReport::default()
    };
    let mut last = None;
    for _ in 0..runs {
        let proof = zkinfer::prove(settings, keys, inputs)?;
        report.prove_seconds.push(proof.prove_seconds);
        last = Some(proof);
    }
    Ok((last.expect("runs >= 1"), report))
}

/// `VmHWM` of `/proc/self/status` (Linux), bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
