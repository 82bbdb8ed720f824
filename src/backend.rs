//! Prover backends: halo2-axiom's CPU prover in this process, or the CUDA prover
//! (halo2-axiom-gpu) in the separate `zkinfer-cuda` binary, run as a child process.
//!
//! Why a child process: a binary that links halo2-axiom-gpu aborts before `main` on a machine
//! without a usable GPU (a static constructor of its CUDA runtime unwraps the device choice;
//! `catch_unwind` cannot help). So the default `zkinfer` binary, the tests and CI never link
//! it; `zkinfer-cuda` (crate `cuda/`, feature `cuda`, built by `scripts/build-cuda.sh`) does,
//! and this module turns its abort into [`CudaFailure::NoDevice`].
//!
//! The protocol ([`CudaProver::prove`]): the parent passes a set-up model directory (settings
//! and keys, as `zkinfer setup` writes them) and an input file; the child writes the proof
//! (the same [`Proof`] JSON the CPU path writes, so the unchanged native and Solidity
//! verifiers accept it) and a report ([`ChildReport`]: timings, key upload, device memory,
//! or the failure). No report at all means the child died before `main`: no usable GPU.

use crate::error::{io_err, Error, Result};
use crate::pipeline::{Keys, Proof, Settings};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Name of the CUDA prover binary.
pub const CUDA_BINARY: &str = "zkinfer-cuda";

/// Environment variable naming the CUDA prover binary (else it is looked for next to the
/// running executable).
pub const CUDA_BIN_ENV: &str = "ZKINFER_CUDA_BIN";

/// Version of the parent ↔ child protocol (arguments, proof file, report).
pub const PROTOCOL_VERSION: u32 = 1;

/// Which prover makes a proof; passed explicitly, never read from a global.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// halo2-axiom's `create_proof` in this process, on all CPU cores.
    Cpu,
    /// halo2-axiom-gpu in the `zkinfer-cuda` child process.
    Cuda(CudaProver),
}

/// Why the CUDA prover made no proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CudaFailure {
    /// The `zkinfer-cuda` binary was not found or could not be started.
    NotFound,
    /// `zkinfer-cuda` was built without the `cuda` feature.
    NotBuilt,
    /// No usable GPU: the child died before it started (no device, no driver).
    NoDevice,
    /// The GPU ran out of memory.
    OutOfMemory,
    /// The circuit is one the CUDA prover does not handle (several phases, challenges).
    Unsupported,
    /// The child crashed while proving.
    Crashed,
    /// Any other failure (bad input, bad keys, a CUDA error).
    Failed,
}

impl std::fmt::Display for CudaFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CudaFailure::NotFound => "CUDA prover not found",
            CudaFailure::NotBuilt => "CUDA prover built without the cuda feature",
            CudaFailure::NoDevice => "no usable GPU",
            CudaFailure::OutOfMemory => "GPU out of memory",
            CudaFailure::Unsupported => "circuit not supported by the CUDA prover",
            CudaFailure::Crashed => "CUDA prover crashed",
            CudaFailure::Failed => "CUDA prover failed",
        })
    }
}

/// Seconds and calls of one named prover phase (a halo2-axiom-gpu perf section).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseTime {
    /// Section name (`phase1`, `phase4a`, `synthesize`, …).
    pub name: String,
    /// Total seconds spent in it (sections nest, so they do not add up).
    pub seconds: f64,
    /// Times it was entered.
    pub count: u64,
}

/// Bytes copied host → device under one label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// The library's label (`pk.fixed_polys_device.init`, …).
    pub label: String,
    /// Bytes copied.
    pub bytes: u64,
}

/// What the CUDA prover measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CudaReport {
    /// Where it proved: the GPU's name, or `cpu` in the child's CPU mode.
    pub device: String,
    /// Seconds to read settings, keys and SRS.
    pub load_seconds: f64,
    /// Seconds to start the device (CUDA context, streams, memory pool) before anything else.
    #[serde(default)]
    pub device_init_seconds: f64,
    /// Seconds to convert the SRS to halo2-axiom-gpu's params (a byte round trip).
    pub params_seconds: f64,
    /// Bytes of the proving key's polynomials, uploaded to the device by every proof.
    pub key_bytes: u64,
    /// Seconds of one upload of those polynomials, measured apart from the proofs (the
    /// proofs upload them again, overlapped with their first phase).
    pub key_upload_seconds: Option<f64>,
    /// Seconds of each proof (the first also initialises the device and uploads the SRS;
    /// each one uploads the proving key).
    pub prove_seconds: Vec<f64>,
    /// Per-phase times of the last proof.
    pub phases: Vec<PhaseTime>,
    /// Host → device copies of the last proof.
    pub h2d: Vec<Transfer>,
    /// Peak device memory of the last proof as the allocator saw it, bytes.
    pub peak_device_bytes: Option<u64>,
    /// Peak device memory in use (total − free, all processes) while proving, bytes.
    pub peak_device_used_bytes: Option<u64>,
    /// Peak resident memory of the child, bytes.
    pub peak_rss_bytes: Option<u64>,
}

/// The report file the child writes: `started` first, then the outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChildReport {
    /// The child reached `main`; it overwrites this with the outcome.
    Started {
        /// Protocol version of the child.
        protocol: u32,
    },
    /// The proof was written.
    Proved {
        /// Protocol version of the child.
        protocol: u32,
        /// Measurements.
        report: CudaReport,
    },
    /// No proof.
    Failed {
        /// Protocol version of the child.
        protocol: u32,
        /// Why.
        kind: CudaFailure,
        /// Details.
        message: String,
    },
}

/// The `zkinfer-cuda` binary and how to run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaProver {
    /// Path of the binary.
    pub binary: PathBuf,
    /// Proofs the child makes in a row, for timing (the first pays the device's start-up and
    /// the SRS upload); the last one is returned. At least 1.
    pub runs: u32,
    /// Extra arguments (`--device cpu` runs the protocol with the CPU prover: a test mode).
    pub args: Vec<OsString>,
}

impl CudaProver {
    /// The binary at `binary`.
    pub fn at(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            runs: 1,
            args: vec![],
        }
    }

    /// `$ZKINFER_CUDA_BIN` if set, else `zkinfer-cuda` next to the running executable; an
    /// explicit choice wins over a guess. [`CudaFailure::NotFound`] if neither exists.
    pub fn locate() -> Result<Self> {
        Self::locate_from(
            std::env::var_os(CUDA_BIN_ENV).map(PathBuf::from),
            std::env::current_exe().ok(),
        )
    }

    /// [`CudaProver::locate`] with the environment variable's value and the executable given.
    pub fn locate_from(env: Option<PathBuf>, exe: Option<PathBuf>) -> Result<Self> {
        if let Some(path) = env {
            if path.is_file() {
                return Ok(Self::at(path));
            }
            return Err(Error::Cuda {
                kind: CudaFailure::NotFound,
                detail: format!("{CUDA_BIN_ENV}={} is not a file", path.display()),
            });
        }
        let sibling = exe
            .as_deref()
            .and_then(Path::parent)
            .map(|dir| dir.join(CUDA_BINARY));
        match sibling {
            Some(path) if path.is_file() => Ok(Self::at(path)),
            _ => Err(Error::Cuda {
                kind: CudaFailure::NotFound,
                detail: format!(
                    "no {CUDA_BINARY} next to this executable{} and {CUDA_BIN_ENV} is not set; \
                     build it with scripts/build-cuda.sh",
                    sibling
                        .map(|p| format!(" ({})", p.display()))
                        .unwrap_or_default()
                ),
            }),
        }
    }

    /// Proves `inputs` with the keys set up in `dir` (`settings.json`, `pk.bin`,
    /// `srs.params`, `setup.json`) in a child process. The proof is checked to be bound to
    /// `settings`.
    pub fn prove(
        &self,
        dir: &Path,
        settings: &Settings,
        inputs: &[Vec<f32>],
    ) -> Result<(Proof, CudaReport)> {
        let work = WorkDir::new()?;
        let input = work.path.join("input.json");
        let proof_path = work.path.join("proof.json");
        let report_path = work.path.join("report.json");
        let text = serde_json::json!({ "input_data": inputs }).to_string();
        std::fs::write(&input, text).map_err(io_err(&input))?;
        let out = Command::new(&self.binary)
            .arg("prove")
            .arg(dir)
            .arg("--input")
            .arg(&input)
            .arg("--proof")
            .arg(&proof_path)
            .arg("--report")
            .arg(&report_path)
            .arg("--runs")
            .arg(self.runs.max(1).to_string())
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| Error::Cuda {
                kind: CudaFailure::NotFound,
                detail: format!("cannot run {}: {e}", self.binary.display()),
            })?;
        let report = read_report(&report_path);
        let report = match report {
            Some(
                ChildReport::Started { protocol }
                | ChildReport::Proved { protocol, .. }
                | ChildReport::Failed { protocol, .. },
            ) if protocol != PROTOCOL_VERSION => {
                return Err(Error::Cuda {
                    kind: CudaFailure::Failed,
                    detail: format!(
                        "{} speaks protocol {protocol}, this zkinfer {PROTOCOL_VERSION}",
                        self.binary.display()
                    ),
                })
            }
            Some(ChildReport::Proved { report, .. }) if out.status.success() => report,
            Some(ChildReport::Failed { kind, message, .. }) => {
                return Err(Error::Cuda {
                    kind,
                    detail: message,
                })
            }
            Some(ChildReport::Started { .. }) | Some(ChildReport::Proved { .. }) => {
                return Err(Error::Cuda {
                    kind: CudaFailure::Crashed,
                    detail: format!("{}{}", describe(&out.status), stderr_tail(&out.stderr)),
                })
            }
            None => {
                return Err(Error::Cuda {
                    kind: CudaFailure::NoDevice,
                    detail: format!(
                        "{} died before it started ({}): no GPU, no NVIDIA driver, or a device \
                         it cannot use{}",
                        self.binary.display(),
                        describe(&out.status),
                        stderr_tail(&out.stderr)
                    ),
                })
            }
        };
        let proof = crate::artifacts::read_proof(&proof_path)?;
        if proof.settings_hash != settings.hash() {
            return Err(Error::Mismatch {
                path: proof_path.display().to_string(),
                reason: "the CUDA prover proved other settings".into(),
            });
        }
        Ok((proof, report))
    }
}

/// Proves `inputs` with `backend` from the keys set up in `dir`. [`Backend::Cpu`] reads the
/// keys and calls [`crate::prove`] (no report); [`Backend::Cuda`] runs the child.
pub fn prove_with(
    dir: &Path,
    settings: &Settings,
    inputs: &[Vec<f32>],
    backend: &Backend,
) -> Result<(Proof, Option<CudaReport>)> {
    match backend {
        Backend::Cpu => {
            let keys: Keys = crate::artifacts::ModelDir::open(dir)?.keys(settings)?;
            Ok((crate::prove(settings, &keys, inputs)?, None))
        }
        Backend::Cuda(prover) => {
            let (proof, report) = prover.prove(dir, settings, inputs)?;
            Ok((proof, Some(report)))
        }
    }
}

fn read_report(path: &Path) -> Option<ChildReport> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn describe(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                6 => " (SIGABRT)",
                9 => " (SIGKILL: out of host memory?)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "no exit status".into(),
    }
}

/// What the child said before it died, for an error message: a panic's location and
/// message (a backtrace's frames left out), else its last lines.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some(last) = lines.last() else {
        return String::new();
    };
    let mut keep: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("panicked at") {
            keep.extend(lines.get(i..i + 2).unwrap_or(&lines[i..]));
        }
    }
    if keep.is_empty() {
        keep.extend(&lines[lines.len().saturating_sub(8)..]);
    } else if keep.last() != Some(last) {
        keep.push(last);
    }
    format!("; its stderr says:\n  {}", keep.join("\n  "))
}

/// A private temporary directory, removed on drop.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn new() -> Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "zkinfer-cuda-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(io_err(&path))?;
        Ok(Self { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_prefers_the_env_var_and_names_what_is_missing() {
        let tmp = std::env::temp_dir().join(format!("zkinfer-locate-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let exe = tmp.join("zkinfer");
        let sibling = tmp.join(CUDA_BINARY);
        let err = CudaProver::locate_from(None, Some(exe.clone())).unwrap_err();
        assert!(
            matches!(&err, Error::Cuda { kind: CudaFailure::NotFound, detail } if detail.contains("build-cuda.sh")),
            "{err}"
        );
        std::fs::write(&sibling, "").unwrap();
        let found = CudaProver::locate_from(None, Some(exe.clone())).unwrap();
        assert_eq!(found.binary, sibling);
        let other = tmp.join("elsewhere");
        let err = CudaProver::locate_from(Some(other.clone()), Some(exe.clone())).unwrap_err();
        assert!(matches!(
            err,
            Error::Cuda {
                kind: CudaFailure::NotFound,
                ..
            }
        ));
        std::fs::write(&other, "").unwrap();
        assert_eq!(
            CudaProver::locate_from(Some(other.clone()), Some(exe))
                .unwrap()
                .binary,
            other
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_panic_is_quoted_without_its_backtrace() {
        let err =
            b"\nthread '<unnamed>' panicked at vm_pool.rs:165:38:\ncalled `Result::unwrap()` \
            on an `Err` value: CudaError { code: 35 }\nstack backtrace:\n   0: frame\n   1: frame\n\
            thread caused non-unwinding panic. aborting.\n";
        let tail = stderr_tail(err);
        assert!(
            tail.contains("panicked at") && tail.contains("code: 35"),
            "{tail}"
        );
        assert!(
            tail.contains("aborting") && !tail.contains("frame"),
            "{tail}"
        );
        assert_eq!(stderr_tail(b"a\nb\n"), "; its stderr says:\n  a\n  b");
    }

    #[test]
    fn report_round_trips() {
        let r = ChildReport::Failed {
            protocol: PROTOCOL_VERSION,
            kind: CudaFailure::OutOfMemory,
            message: "x".into(),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"status\":\"failed\""));
        assert!(text.contains("\"kind\":\"out_of_memory\""));
        assert_eq!(serde_json::from_str::<ChildReport>(&text).unwrap(), r);
    }
}
