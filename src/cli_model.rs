//! Options of the commands that load and calibrate an ONNX model (`compile`, `calibrate`,
//! `accuracy`, `run`): values for its symbolic dimensions, and how far its lookup tables
//! reach beyond the calibrated ranges.

use anyhow::{bail, Result};
use std::path::Path;
use zkinfer::Dims;
use zkinfer::{Model, QuantSettings};

/// `--dim NAME=VALUE` and `--range-margin M`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ModelArgs {
    /// Value of a symbolic dimension of the model (`--dim N=1` pins a batch `N`; EZKL's
    /// `--variables`); repeatable. A circuit has fixed shapes: each symbolic input
    /// dimension needs one.
    #[arg(long = "dim", value_name = "NAME=VALUE", value_parser = parse_dim)]
    pub dims: Vec<(String, u64)>,
    /// How far lookup tables and segments reach beyond each calibrated range, on each side,
    /// as a fraction of it (default: 1 up to four calibration samples, 0.5 from
    /// eight on). Widen it when an input the circuit was not calibrated on is out of range.
    #[arg(long, value_name = "M", value_parser = parse_margin)]
    pub range_margin: Option<f64>,
}

/// The circuit layout, for the commands that build a circuit (`compile`, `run`, `bench`).
#[derive(clap::Args)]
pub struct LayoutArgs {
    /// Circuit layout: `tall` (fewest columns, least verification gas: for proofs verified
    /// on chain) or `wide` (dot products that share inputs, as in convolutions and dense
    /// layers, take far fewer rows: faster proving, larger proofs, and a verifier over the
    /// EVM's contract size limit).
    #[arg(long, value_name = "tall|wide", default_value = "tall")]
    pub layout: zkinfer::Layout,
}

fn parse_dim(s: &str) -> std::result::Result<(String, u64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=VALUE, e.g. N=1"))?;
    let value = value
        .trim()
        .parse::<u64>()
        .map_err(|e| format!("`{s}`: the value is not a non-negative integer ({e})"))?;
    Ok((name.trim().to_string(), value))
}

fn parse_margin(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if (0.0..=64.0).contains(&m) => Ok(m),
        Ok(m) => Err(format!("{m}: a range margin is between 0 and 64")),
        Err(e) => Err(format!("`{s}`: {e}")),
    }
}

impl ModelArgs {
    /// The dimensions given, by name; a name given twice is an error.
    pub fn dims(&self) -> Result<Dims> {
        let mut dims = Dims::new();
        for (name, value) in &self.dims {
            if dims.insert(name.clone(), *value).is_some() {
                bail!("--dim {name} is given twice");
            }
        }
        Ok(dims)
    }

    /// Reads the ONNX model at `path` with the dimensions given.
    pub fn load(&self, path: &Path) -> Result<Model> {
        Ok(Model::from_path_pinned(path, &self.dims()?)?)
    }

    /// Parses bundled ONNX bytes with the dimensions given.
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<Model> {
        Ok(Model::from_bytes_pinned(bytes, &self.dims()?)?)
    }

    /// `quant` with the range margin given, if one was.
    pub fn apply(&self, mut quant: QuantSettings) -> QuantSettings {
        if self.range_margin.is_some() {
            quant.range_margin = self.range_margin;
        }
        quant
    }

    /// The fixed point of `m` for `samples`: the default calibration with the range margin
    /// given; `None` (compile's own default) when there is nothing to change or `m` is
    /// pre-quantized.
    pub fn quant(&self, m: &Model, samples: &[Vec<Vec<f32>>]) -> Result<Option<QuantSettings>> {
        if self.range_margin.is_none() || m.float().is_none() {
            return Ok(None);
        }
        let quant = zkinfer::calibrate(m, samples, zkinfer::Target::Balanced)?;
        Ok(Some(self.apply(quant)))
    }
}
