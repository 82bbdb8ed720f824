//! How each nonlinear function of a model is proven, and what the choice costs: a lookup
//! table behind a rescale to its grid, or piecewise-linear segments over the range-decomposed
//! input (`docs/ops.md`, "Lookup versus range decomposition").
//!
//! ```text
//! cargo run --release --example nonlinear_choice -- tests/data/zoo/tiny_attention [balanced|accuracy|resources]
//! ```
//!
//! For a zoo-format directory (`model.onnx`, `inputs/*.json`), calibrated on its inputs:
//! per mode (table, interp, auto) the circuit's rows, function-table rows, logrows and max abs
//! error against float inference; then, in auto mode, each nonlinear node with its element
//! count and the cost of both forms.

use std::path::PathBuf;
use zkinfer::calibration::{accuracy, calibrate, read_data_dir};
use zkinfer::circuits::ops::Op;
use zkinfer::{compile_with, Model, Nonlinear, Target, Visibility};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: nonlinear_choice MODEL_DIR [balanced|accuracy|resources]")
    })?);
    let target = match args.next().as_deref() {
        None | Some("balanced") => Target::Balanced,
        Some("accuracy") => Target::Accuracy,
        Some("resources") => Target::Resources,
        Some(other) => anyhow::bail!("unknown target {other}"),
    };
    let model = Model::from_path(&dir.join("model.onnx"))?;
    let samples = read_data_dir(&dir.join("inputs"))?;
    println!("{}", dir.display());
    println!(
        "{:<7} {:>7} {:>13} {:>11} {:>8} {:>12}",
        "mode", "rows", "circuit rows", "table rows", "logrows", "max abs err"
    );
    let mut auto = None;
    for mode in [Nonlinear::Table, Nonlinear::Interp, Nonlinear::Auto] {
        let mut c = calibrate(&model, &samples, target)?;
        c.quant.nonlinear = mode;
        let settings = compile_with(&model, &samples, Some(c.quant), Visibility::default())?;
        let report = accuracy(&model, &settings, &samples)?;
        let table_rows: usize = settings
            .graph
            .nodes
            .iter()
            .flat_map(|n| n.op.tables())
            .map(|t| t.values.len() * (1 + usize::from(t.has_second())))
            .sum();
        println!(
            "{:<7} {:>7} {:>13} {:>11} {:>8} {:>12.3e}",
            format!("{mode:?}").to_lowercase(),
            settings.rows,
            settings.circuit_rows,
            table_rows,
            settings.logrows,
            report.max_abs_error
        );
        auto = Some(settings);
    }
    let settings = auto.expect("three modes ran");
    println!("\nauto, per node:");
    for node in &settings.graph.nodes {
        let elements: usize = node.shape.iter().product();
        match &node.op {
            Op::Interp(i) => println!(
                "  {:<40} {:>6} elements: segments of 2^{} inputs, {} table rows, {} rows each",
                node.name,
                elements,
                i.seg_bits,
                i.segments() * (1 + usize::from(i.table.has_second())),
                i.rows_per_element()
            ),
            Op::Lookup(l) => println!(
                "  {:<40} {:>6} elements: table of {} entries ({})",
                node.name,
                elements,
                l.table.values.len(),
                l.table.function
            ),
            _ => {}
        }
    }
    Ok(())
}
