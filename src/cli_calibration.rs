//! The `calibrate` and `accuracy` commands: choosing a float model's scales on a data set and
//! reporting how far the quantized model (what the circuit proves) is from float inference.

use crate::cli_args::DataArgs;
use anyhow::{Context, Result};
use serde_json::json;
use std::path::Path;
use zkinfer::calibration::{accuracy, calibrate, read_data_dir_for, AccuracyReport};
use zkinfer::{artifacts::write_json, compile_with, Model, Nonlinear, Target, Visibility};

/// `--target`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TargetArg {
    /// Finest scales the calibrated ranges allow (up to 2^16), tables up to 14 bits with
    /// outputs 2^-10 apart (what `compile --calibration` uses).
    Balanced,
    /// As balanced, with tables up to 16 bits and outputs 2^-12 apart.
    Accuracy,
    /// Scales up to 2^12, tables up to 11 bits with outputs 2^-8 apart: smaller circuits.
    Resources,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Balanced => Target::Balanced,
            TargetArg::Accuracy => Target::Accuracy,
            TargetArg::Resources => Target::Resources,
        }
    }
}

/// `--nonlinear`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NonlinearArg {
    /// Per function, whichever of table and segments costs fewer rows.
    Auto,
    /// Lookup tables over the input range.
    Table,
    /// Piecewise-linear segments over range-decomposed inputs.
    Interp,
}

impl From<NonlinearArg> for Nonlinear {
    fn from(n: NonlinearArg) -> Self {
        match n {
            NonlinearArg::Auto => Nonlinear::Auto,
            NonlinearArg::Table => Nonlinear::Table,
            NonlinearArg::Interp => Nonlinear::Interp,
        }
    }
}

/// Calibrates `m` on `samples` for the chosen target and nonlinear mode.
fn choose(
    m: &Model,
    samples: &[Vec<Vec<f32>>],
    d: &DataArgs,
) -> Result<zkinfer::calibration::Calibration> {
    let mut c = calibrate(m, samples, d.target.into())?;
    c.quant.nonlinear = d.nonlinear.into();
    c.quant = d.model_args.apply(c.quant);
    Ok(c)
}

/// `zkinfer calibrate`: choose the scales, write them, explain the choice.
pub fn run_calibrate(json: bool, d: &DataArgs, out: &Path) -> Result<i32> {
    zkinfer::artifacts::check_output_file(out).context("--out")?;
    let m = d.model_args.load(&d.model)?;
    let samples = read_data_dir_for(&d.data, &m)?;
    let c = choose(&m, &samples, d)?;
    let settings = compile_with(&m, &samples, Some(c.quant.clone()), Visibility::default())?;
    let report = accuracy(&m, &settings, &samples)?;
    write_json(out, &c)?;
    let value = json!({
        "target": c.quant.target,
        "default_scale_bits": c.quant.act_scale,
        "weight_scale_bits": c.quant.weight_scale,
        "tensors": report.layers.iter().map(|l| json!({
            "name": l.name, "op": l.op, "scale_bits": l.scale,
            "max_abs_value": l.max_abs_value, "step": 2f64.powi(-l.scale),
            "max_abs_error": l.max_abs_error,
        })).collect::<Vec<_>>(),
        "expected_max_abs_error": report.max_abs_error,
        "top1_agree": report.top1_agree,
        "argmax_rows_agree": report.rows_agree,
        "argmax_rows": report.rows,
        "samples": report.samples,
        "rows": settings.rows,
        "circuit_rows": settings.circuit_rows,
        "logrows": settings.logrows,
        "out": out,
    });
    if json {
        say!("{value}");
    } else {
        say!(
            "target {}: default scale 2^{}, weights 2^{}; {} rows ({} circuit rows), logrows {}",
            serde_json::to_value(c.quant.target)?
                .as_str()
                .unwrap_or("?"),
            c.quant.act_scale,
            c.quant.weight_scale,
            settings.rows,
            settings.circuit_rows,
            settings.logrows
        );
        print_layers(&report);
        print_summary(&report);
        say!(
            "wrote {} (use: zkinfer compile MODEL --calibrated {0} --out DIR)",
            out.display()
        );
    }
    Ok(0)
}

/// `zkinfer accuracy`: the quantized reference evaluator against float inference.
pub fn run_accuracy(json: bool, d: &DataArgs) -> Result<i32> {
    let m = d.model_args.load(&d.model)?;
    let samples = read_data_dir_for(&d.data, &m)?;
    let c = choose(&m, &samples, d)?;
    let settings = compile_with(&m, &samples, Some(c.quant), Visibility::default())?;
    let report = accuracy(&m, &settings, &samples)?;
    if json {
        say!("{}", serde_json::to_value(&report)?);
    } else {
        print_layers(&report);
        print_summary(&report);
    }
    Ok(0)
}

fn print_layers(r: &AccuracyReport) {
    say!(
        "{:<28} {:<9} {:>6} {:>11} {:>11} {:>11}",
        "layer",
        "op",
        "scale",
        "max |x|",
        "max err",
        "mean err"
    );
    for l in &r.layers {
        say!(
            "{:<28} {:<9} {:>6} {:>11.4e} {:>11.3e} {:>11.3e}",
            l.name,
            l.op,
            format!("2^{}", l.scale),
            l.max_abs_value,
            l.max_abs_error,
            l.mean_abs_error
        );
    }
}

fn print_summary(r: &AccuracyReport) {
    // Per row (each position of a sequence's logits) where an output has several.
    let rows = if r.rows > r.samples {
        format!(", argmax per row {}/{}", r.rows_agree, r.rows)
    } else {
        String::new()
    };
    say!(
        "outputs: top-1 agreement {}/{}{rows}, max abs error {:.3e}, mean abs error {:.3e}",
        r.top1_agree,
        r.samples,
        r.max_abs_error,
        r.mean_abs_error
    );
}
