//! A compiled model as a directory: `settings.json` and `model.onnx` from `compile`;
//! `srs.params`, `pk.bin`, `vk.bin` and `setup.json` from `setup`. Every file carries the
//! format version and is bound to the settings hash.
//!
//! Only the commands that make a directory create one ([`ModelDir::new`]: `compile --out`,
//! `run --out`; and `create-verifier`'s output directory): every other command opens an
//! existing one ([`ModelDir::open`]) and creates nothing when it is missing. Outputs are
//! checked before the work that produces them ([`check_output_file`], [`check_output_dir`]).

use crate::error::{io_err, Error, Result};
use crate::pipeline::{Keys, Proof, Settings};
use crate::FORMAT_VERSION;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zkinfer_prover::{G1Affine, Srs, SrsOrigin, VerifyingKey};

/// What `setup` records beside the keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetupInfo {
    /// Artifact format version.
    pub format_version: u32,
    /// Hash of the settings the keys were made for.
    pub settings_hash: String,
    /// Hash of the verifying key.
    pub vk_hash: String,
    /// Where the SRS came from; `dev_insecure` means anyone can forge proofs.
    pub srs: SrsOrigin,
    /// Circuit size.
    pub logrows: u32,
}

/// Paths of a compiled model directory.
#[derive(Clone, Debug)]
pub struct ModelDir {
    /// The directory.
    pub dir: PathBuf,
}

/// What a model directory lacks ([`Error::ModelDir`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirProblem {
    /// The directory does not exist.
    Missing,
    /// The path is not a directory.
    NotADirectory,
    /// It has no `settings.json`: nothing was compiled into it.
    NotCompiled,
    /// It has settings but no `model.onnx` (a directory an older `run --out` made).
    NoModel,
    /// It has no `setup.json`: no keys were made for it.
    NotSetUp,
}

impl DirProblem {
    /// The problem in words, with the command that fixes it.
    pub fn describe(&self, dir: &str) -> String {
        let compile = format!("zkinfer compile MODEL --calibration INPUT.json --out {dir}");
        match self {
            DirProblem::Missing => format!(
                "{dir} does not exist: run `{compile}` first (or `zkinfer run MODEL --input \
                 INPUT.json --out {dir}`)"
            ),
            DirProblem::NotADirectory => {
                format!("{dir} is not a directory: give the directory `{compile}` made")
            }
            DirProblem::NotCompiled => format!(
                "{dir} is not a compiled model directory (it has no settings.json): run \
                 `{compile}` first"
            ),
            DirProblem::NoModel => format!(
                "{dir} has no model.onnx (an older `zkinfer run --out` made it?): run \
                 `{compile}` again"
            ),
            DirProblem::NotSetUp => {
                format!("{dir} has no keys (no setup.json): run `zkinfer setup {dir}` first")
            }
        }
    }
}

/// Why an output cannot be written ([`Error::Output`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputProblem {
    /// The directory a file is to go in does not exist: zkinfer does not create it.
    #[error(
        "the directory {dir} does not exist; create it first (zkinfer creates no directory \
         for a file it writes)"
    )]
    NoDirectory {
        /// The missing directory.
        dir: String,
    },
    /// A path that must be a directory is something else.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path concerned.
        path: String,
    },
    /// A file is to be written where a directory is.
    #[error("is a directory; give a file name")]
    IsADirectory,
    /// The place cannot be written (permissions, read-only file system).
    #[error("cannot write there: {error}")]
    NotWritable {
        /// What the system said.
        error: std::io::Error,
    },
}

/// Checks, before the work that produces it, that a file can be written at `path`: its
/// directory exists (none is created for a file), it is not a directory, and it opens for
/// writing. An existing file is left as it is; nothing is left behind.
pub fn check_output_file(path: &Path) -> Result<()> {
    let err = |problem| Error::Output {
        path: path.display().to_string(),
        problem,
    };
    if path.is_dir() {
        return Err(err(OutputProblem::IsADirectory));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.exists() {
        return Err(err(OutputProblem::NoDirectory {
            dir: parent.display().to_string(),
        }));
    }
    if !parent.is_dir() {
        return Err(err(OutputProblem::NotADirectory {
            path: parent.display().to_string(),
        }));
    }
    let opened = if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|f| {
                drop(f);
                std::fs::remove_file(path)
            })
    };
    opened.map_err(|error| err(OutputProblem::NotWritable { error }))
}

/// Checks, before the work that fills it, that `dir` is a directory that can be written
/// into, or can be made (with its parents) and written into. Creates nothing.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    let err = |problem| Error::Output {
        path: dir.display().to_string(),
        problem,
    };
    let existing = dir
        .ancestors()
        .find(|a| a.as_os_str().is_empty() || a.exists())
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(err(OutputProblem::NotADirectory {
            path: existing.display().to_string(),
        }));
    }
    let probe = existing.join(format!(".zkinfer-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|f| {
            drop(f);
            std::fs::remove_file(&probe)
        })
        .map_err(|error| err(OutputProblem::NotWritable { error }))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|e| Error::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Writes pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("artifacts serialize");
    std::fs::write(path, text).map_err(io_err(path))
}

impl ModelDir {
    /// A directory to write a compiled model into, created (with its parents) if missing:
    /// for `compile --out` and `run --out`. Commands that read one use [`ModelDir::open`].
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// An existing compiled directory (it holds `settings.json`); creates nothing. A missing
    /// or uncompiled directory is [`Error::ModelDir`], naming the command that makes it.
    pub fn open(dir: &Path) -> Result<Self> {
        let err = |problem| Error::ModelDir {
            dir: dir.display().to_string(),
            problem,
        };
        if !dir.exists() {
            return Err(err(DirProblem::Missing));
        }
        if !dir.is_dir() {
            return Err(err(DirProblem::NotADirectory));
        }
        if !dir.join("settings.json").exists() {
            return Err(err(DirProblem::NotCompiled));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn problem(&self, problem: DirProblem) -> Error {
        Error::ModelDir {
            dir: self.dir.display().to_string(),
            problem,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Stores compiled settings and the model they came from (its bytes: a model that is no
    /// file, such as the bundled one).
    pub fn write_compiled_bytes(&self, settings: &Settings, onnx: &[u8]) -> Result<()> {
        write_json(&self.path("settings.json"), settings)?;
        let dst = self.path("model.onnx");
        std::fs::write(&dst, onnx).map_err(io_err(&dst))
    }

    /// Stores compiled settings and the model they came from.
    pub fn write_compiled(&self, settings: &Settings, onnx: &Path) -> Result<()> {
        write_json(&self.path("settings.json"), settings)?;
        let dst = self.path("model.onnx");
        if onnx.canonicalize().ok() != dst.canonicalize().ok() {
            std::fs::copy(onnx, &dst).map_err(io_err(&dst))?;
        }
        Ok(())
    }

    /// Reads and checks the settings.
    pub fn settings(&self) -> Result<Settings> {
        let path = self.path("settings.json");
        let s: Settings = read_json(&path)?;
        if s.format_version != FORMAT_VERSION {
            return Err(Error::Mismatch {
                path: path.display().to_string(),
                reason: format!(
                    "format version {}, this build reads {FORMAT_VERSION}",
                    s.format_version
                ),
            });
        }
        s.graph.validate()?;
        Ok(s)
    }

    /// The ONNX model stored by `compile`, checked against the settings' hash.
    pub fn model(&self, settings: &Settings) -> Result<crate::Model> {
        let path = self.path("model.onnx");
        if !path.exists() {
            return Err(self.problem(DirProblem::NoModel));
        }
        let model = crate::Model::from_path_pinned(&path, &settings.dims)?;
        if model.sha256 != settings.model_sha256 {
            return Err(Error::Mismatch {
                path: path.display().to_string(),
                reason: format!(
                    "model hash {} differs from the compiled {}",
                    model.sha256, settings.model_sha256
                ),
            });
        }
        Ok(model)
    }

    /// Stores keys and SRS.
    pub fn write_keys(&self, settings: &Settings, keys: &Keys) -> Result<SetupInfo> {
        let hash = settings.hash();
        keys.srs.save(&self.path("srs.params"))?;
        zkinfer_prover::write_pk(&self.path("pk.bin"), &keys.pk, &hash)?;
        zkinfer_prover::write_vk(&self.path("vk.bin"), keys.pk.get_vk(), &hash)?;
        let info = SetupInfo {
            format_version: FORMAT_VERSION,
            settings_hash: hash,
            vk_hash: zkinfer_prover::vk_hash(keys.pk.get_vk()),
            srs: keys.srs.origin.clone(),
            logrows: settings.logrows,
        };
        write_json(&self.path("setup.json"), &info)?;
        Ok(info)
    }

    /// Reads the setup record, checking it belongs to `settings`.
    pub fn setup_info(&self, settings: &Settings) -> Result<SetupInfo> {
        let path = self.path("setup.json");
        if !path.exists() {
            return Err(self.problem(DirProblem::NotSetUp));
        }
        let info: SetupInfo = read_json(&path)?;
        if info.settings_hash != settings.hash() || info.format_version != FORMAT_VERSION {
            return Err(Error::Mismatch {
                path: path.display().to_string(),
                reason: "setup was made for other settings; run `zkinfer setup` again".into(),
            });
        }
        Ok(info)
    }

    /// The SRS of the setup, with the origin its own file records (checksummed with the
    /// parameters; `setup.json`'s copy is for people), and a development SRS recognised
    /// from its points whatever any file says.
    fn srs(&self, settings: &Settings) -> Result<Srs> {
        Ok(Srs::read(&self.path("srs.params"), settings.logrows)?)
    }

    /// Reads SRS and proving key.
    pub fn keys(&self, settings: &Settings) -> Result<Keys> {
        self.setup_info(settings)?;
        let srs = self.srs(settings)?;
        let pk = zkinfer_prover::read_pk(
            &self.path("pk.bin"),
            &settings.hash(),
            settings.graph.chip_shape(),
        )?;
        Ok(Keys { srs, pk })
    }

    /// Reads SRS and verifying key.
    pub fn verifier(&self, settings: &Settings) -> Result<(Srs, VerifyingKey<G1Affine>)> {
        self.setup_info(settings)?;
        let srs = self.srs(settings)?;
        let vk = zkinfer_prover::read_vk(
            &self.path("vk.bin"),
            &settings.hash(),
            settings.graph.chip_shape(),
        )?;
        Ok((srs, vk))
    }
}

/// Reads a proof file.
pub fn read_proof(path: &Path) -> Result<Proof> {
    read_json(path)
}

/// One deployment made from a model directory: the chain, the settings and key it serves,
/// and where to call it. `DIR/evm/deployment.json` keeps every one, newest last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// `eth_chainId` of the node deployed to.
    pub chain_id: u64,
    /// Hash of the settings the key contract belongs to.
    pub settings_hash: String,
    /// Hash of the verifying key it holds.
    pub vk_hash: String,
    /// The verifier to call.
    pub verifier: String,
    /// The key contract to name in `verifyProof(key, proof, instances)`, when the verifier
    /// was deployed with another key of the same circuit shape (`deploy --verifier`); absent
    /// when the verifier's own key is this one.
    pub key: Option<String>,
    /// What this deployment mined: the key contract, then the verifier (if it made one).
    pub transactions: Vec<zkinfer_chain::Deployed>,
}

/// The contents of `DIR/evm/deployment.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Deployments {
    format_version: u32,
    deployments: Vec<DeploymentRecord>,
}

impl ModelDir {
    /// Where deployments are recorded.
    pub fn deployment_path(&self) -> PathBuf {
        self.dir.join("evm").join("deployment.json")
    }

    /// Every deployment recorded in this directory, oldest first (none if the file is
    /// missing).
    pub fn deployments(&self) -> Result<Vec<DeploymentRecord>> {
        let path = self.deployment_path();
        if !path.exists() {
            return Ok(vec![]);
        }
        let d: Deployments = read_json(&path).map_err(|_| Error::BadFile {
            path: path.display().to_string(),
            reason: "not a deployment record of this zkinfer (an older one wrote it?): deploy \
                     again, or pass --address"
                .into(),
        })?;
        Ok(d.deployments)
    }

    /// Appends a deployment to the record; returns the file written.
    pub fn record_deployment(&self, record: DeploymentRecord) -> Result<PathBuf> {
        let mut all = self.deployments()?;
        all.push(record);
        let path = self.deployment_path();
        let parent = path.parent().expect("evm/deployment.json has a parent");
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        write_json(
            &path,
            &Deployments {
                format_version: FORMAT_VERSION,
                deployments: all,
            },
        )?;
        Ok(path)
    }

    /// The newest deployment, on chain `chain_id`, of these settings and this key: a
    /// deployment of settings this directory no longer holds (compiled or set up again
    /// since) is never used.
    pub fn deployment_for(
        &self,
        chain_id: u64,
        settings_hash: &str,
        vk_hash: &str,
    ) -> Result<Option<DeploymentRecord>> {
        Ok(self.deployments()?.into_iter().rev().find(|d| {
            d.chain_id == chain_id && d.settings_hash == settings_hash && d.vk_hash == vk_hash
        }))
    }
}
