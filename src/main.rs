//! The `zkinfer` command line: compile, setup, prove, verify, or all at once with `run`;
//! `import-srs` turns a Powers-of-Tau ceremony file into params for `--srs`.

use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use zkinfer::artifacts::{check_output_file, read_proof, ModelDir};
use zkinfer::Visibility;

/// `println!` that stops quietly when stdout is closed (`zkinfer … | head`) instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli_args;
mod cli_backend;
mod cli_bench;
mod cli_calibration;
mod cli_model;
mod cli_pipeline;
mod evm_cmd;

use cli_args::{Cli, Cmd};

pub(crate) fn step<T>(
    json: bool,
    msg: &str,
    f: impl FnOnce() -> zkinfer::Result<T>,
) -> Result<(T, f64)> {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"));
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if !json {
        eprintln!("{msg}: {secs:.2} s");
    }
    Ok((out.with_context(|| format!("{msg} failed"))?, secs))
}

fn main() {
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if cli.json {
                say!("{}", json!({ "error": describe(&e) }));
            } else {
                eprintln!("error: {}", describe(&e));
            }
            std::process::exit(2);
        }
    }
}

/// An error and its causes, each once: a cause whose text is already shown (an error that
/// prints its source, as `path: No such file or directory` does) is not repeated.
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// Reads an input file for the compiled `settings`, refusing a declared `shape` that is not
/// the model's.
pub(crate) fn read_model_inputs(
    path: &Path,
    settings: &zkinfer::Settings,
) -> Result<Vec<Vec<f32>>> {
    let file = zkinfer::input::read_input_file(path)?;
    file.check_shape(&zkinfer::input::graph_inputs(&settings.graph))?;
    warn_ignored(&file);
    Ok(file.values)
}

/// Warns of the fields of an input file that zkinfer does not read (a misspelt `shape`).
pub(crate) fn warn_ignored(file: &zkinfer::input::InputFile) {
    if let Some(warning) = file.ignored_warning() {
        eprintln!("warning: {warning}");
    }
}

fn dispatch(cli: &Cli) -> Result<i32> {
    zkinfer::prover::check_cpu()?;
    let j = cli.json;
    match &cli.cmd {
        Cmd::Compile {
            model,
            calibration,
            calibrated,
            out,
            public_input,
            model_args,
            layout,
        } => {
            let vis = Visibility {
                public_input: *public_input,
            };
            let samples = (calibration.as_slice(), calibrated.as_deref());
            cli_pipeline::compile(j, model, samples, out, vis, model_args, layout.layout)
        }
        Cmd::Setup { dir, srs } => {
            let d = ModelDir::open(dir)?;
            let settings = d.settings()?;
            let keys = step(j, "setup", || {
                zkinfer::setup(&settings, srs.as_deref(), &zkinfer::default_cache_dir())
            })?
            .0;
            let info = d.write_keys(&settings, &keys)?;
            report(
                j,
                json!({ "logrows": info.logrows, "vk_hash": info.vk_hash, "srs": info.srs }),
            );
            Ok(0)
        }
        Cmd::Prove {
            dir,
            input,
            proof,
            backend,
        } => cli_pipeline::prove(j, dir, input, proof, backend),
        Cmd::Verify { dir, proof } => {
            let d = ModelDir::open(dir)?;
            let settings = d.settings()?;
            let p = read_proof(proof)?;
            let (srs, vk) = d.verifier(&settings)?;
            let insecure = evm_cmd::warn_if_insecure(dir, &srs);
            cli_pipeline::verdict(j, zkinfer::verify(&settings, &srs, &vk, &p)?, insecure)
        }
        Cmd::Calibrate { data, out } => cli_calibration::run_calibrate(j, data, out),
        Cmd::Accuracy { data } => cli_calibration::run_accuracy(j, data),
        Cmd::ImportSrs { ptau, out, logrows } => {
            check_output_file(out).context("--out")?;
            let srs = step(j, "import", || zkinfer::import_srs(ptau, *logrows))?.0;
            srs.save(out)?;
            let k = zkinfer::halo2::poly::commitment::Params::k(&srs.params);
            report(j, json!({ "logrows": k, "srs": srs.origin, "out": out }));
            Ok(0)
        }
        Cmd::Run(args) => cli_pipeline::run(j, args),
        Cmd::Bench(args) => cli_bench::run(j, args),
        evm => evm_command(j, evm),
    }
}

/// The on-chain commands: `create-verifier`, `verify-evm`, `deploy`, `verify-onchain`,
/// `calldata`.
fn evm_command(j: bool, cmd: &Cmd) -> Result<i32> {
    match cmd {
        Cmd::CreateVerifier {
            dir,
            out,
            self_contained,
        } => {
            let v = evm_cmd::create(dir, out.as_deref(), *self_contained)?;
            report(j, v);
            Ok(0)
        }
        Cmd::VerifyEvm {
            dir,
            proof,
            self_contained,
        } => {
            let (code, v) = evm_cmd::verify(dir, proof, *self_contained)?;
            report(j, v);
            Ok(code)
        }
        Cmd::Deploy {
            dir,
            rpc_url,
            key,
            verifier,
            allow_insecure_srs,
        } => {
            let private_key = key.required("deploy")?;
            report(
                j,
                evm_cmd::deploy(
                    dir,
                    rpc_url,
                    &private_key,
                    verifier.as_deref(),
                    *allow_insecure_srs,
                )?,
            );
            Ok(0)
        }
        Cmd::VerifyOnchain {
            dir,
            proof,
            rpc_url,
            address,
            key,
            send,
            signer,
        } => {
            let private_key = if *send {
                Some(signer.required("--send")?)
            } else {
                None
            };
            let (code, v) = evm_cmd::verify_onchain(
                dir,
                proof,
                rpc_url,
                (address.as_deref(), key.as_deref()),
                private_key.as_deref(),
            )?;
            report(j, v);
            Ok(code)
        }
        Cmd::Calldata { dir, proof } => {
            let hex = evm_cmd::encode(dir, proof)?;
            if j {
                say!("{}", json!({ "calldata": hex }));
            } else {
                say!("{hex}");
            }
            Ok(0)
        }
        _ => unreachable!("dispatch handles the other commands"),
    }
}

pub(crate) fn report(json: bool, value: serde_json::Value) {
    if json {
        say!("{value}");
    } else if let Some(obj) = value.as_object() {
        for (k, v) in obj.iter().filter(|(_, v)| !v.is_null()) {
            say!("{k}: {v}");
        }
    }
}
