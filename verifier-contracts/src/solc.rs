//! Compilation with solc-js (the npm `solc` package pinned in `verifier-contracts/`): `node`
//! runs a small driver that feeds solc's standard JSON input on stdin. Outputs are cached by
//! the SHA-256 of the input, so a verifier is compiled once per content.
//!
//! solc-js is looked for ([`search_path`]) in `$ZKINFER_NODE_MODULES` when it is set (and
//! only there), else in the source checkout's `verifier-contracts/node_modules` (where
//! `npm ci` puts it; used when it exists at run time), then in the per-user
//! `$XDG_DATA_HOME/zkinfer/node_modules` (default `~/.local/share/zkinfer/node_modules`), which
//! `npm install --prefix ~/.local/share/zkinfer solc@VERSION` fills: so an installed binary
//! (`cargo install`) compiles verifiers too. When none holds it, the error names that command.

use crate::error::{io_err, EvmError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The EIP-170 limit on runtime code size.
pub const MAX_RUNTIME_BYTES: usize = 24_576;

/// EVM version the verifiers target (they need `mcopy`-free Cancun opcodes at most).
pub const EVM_VERSION: &str = "cancun";

const DRIVER: &str = "const solc = require(process.argv[1]); let input = ''; \
process.stdin.on('data', d => input += d); \
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));";

/// A compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Init code.
    pub bytecode: Vec<u8>,
    /// Runtime code (immutables as zeros).
    pub runtime: Vec<u8>,
    /// Where the runtime code holds immutables (filled in by the constructor), in order.
    pub immutables: Vec<std::ops::Range<usize>>,
    /// ABI (JSON).
    pub abi: Value,
}

impl Compiled {
    /// The immutables' values in `deployed`, when it is this contract's runtime code: the same
    /// length and every byte equal outside the immutables' places. `None` for other code.
    pub fn immutables_in(&self, deployed: &[u8]) -> Option<Vec<Vec<u8>>> {
        if deployed.len() != self.runtime.len() {
            return None;
        }
        let mut at = 0;
        for place in &self.immutables {
            if deployed.get(at..place.start)? != self.runtime.get(at..place.start)? {
                return None;
            }
            at = place.end;
        }
        if deployed.get(at..)? != self.runtime.get(at..)? {
            return None;
        }
        Some(
            self.immutables
                .iter()
                .map(|place| deployed[place.clone()].to_vec())
                .collect(),
        )
    }
}

/// The environment variable naming the `node_modules` directory that holds solc-js.
pub const NODE_MODULES_VAR: &str = "ZKINFER_NODE_MODULES";

/// The solc-js version pinned in this crate's `package.json` (what `npm ci` installs).
pub fn solc_version() -> String {
    let package: Value =
        serde_json::from_str(include_str!("../package.json")).expect("package.json is JSON");
    package["dependencies"]["solc"]
        .as_str()
        .expect("package.json pins solc")
        .to_string()
}

/// The per-user directory that `npm install --prefix` fills for zkinfer:
/// `$XDG_DATA_HOME/zkinfer` (an absolute `XDG_DATA_HOME`), else `$HOME/.local/share/zkinfer`;
/// `None` without either.
pub fn user_prefix() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))?;
    Some(data.join("zkinfer"))
}

/// The `node_modules` directories looked in for solc-js, in order: `$ZKINFER_NODE_MODULES`
/// alone when it is set (a wrong setting is an error, not silently replaced by another
/// solc); else the source checkout's `verifier-contracts/node_modules` (where `npm ci` puts
/// it), then `node_modules` of [`user_prefix`].
pub fn search_path() -> Vec<PathBuf> {
    Places::from_env().search_path()
}

/// The first directory of [`search_path`] that holds solc-js; when none does,
/// [`EvmError::SolcMissing`] with the `npm install` command that fixes it.
pub fn node_modules() -> Result<PathBuf, EvmError> {
    Places::from_env().find()
}

/// Where solc-js may be installed.
struct Places {
    /// `$ZKINFER_NODE_MODULES`.
    var: Option<PathBuf>,
    /// The checkout's `node_modules` (it may not exist at run time).
    checkout: PathBuf,
    /// [`user_prefix`].
    user: Option<PathBuf>,
}

impl Places {
    fn from_env() -> Self {
        Self {
            var: std::env::var_os(NODE_MODULES_VAR).map(PathBuf::from),
            checkout: Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules"),
            user: user_prefix(),
        }
    }

    fn search_path(&self) -> Vec<PathBuf> {
        match &self.var {
            Some(d) => vec![d.clone()],
            None => std::iter::once(self.checkout.clone())
                .chain(self.user.as_ref().map(|p| p.join("node_modules")))
                .collect(),
        }
    }

    fn find(&self) -> Result<PathBuf, EvmError> {
        let searched = self.search_path();
        if let Some(d) = searched
            .iter()
            .find(|d| d.join("solc").join("package.json").is_file())
        {
            return Ok(d.clone());
        }
        // npm puts the package in PREFIX/node_modules: the variable's directory when it is
        // one, else the per-user one.
        let prefix = match &self.var {
            Some(d) if d.file_name().is_some_and(|n| n == "node_modules") => {
                d.parent().map(Path::to_path_buf)
            }
            Some(d) => Some(d.clone()),
            None => self.user.clone(),
        }
        .unwrap_or_else(|| std::env::temp_dir().join("zkinfer"));
        Err(EvmError::SolcMissing {
            searched,
            prefix,
            version: solc_version(),
        })
    }
}

fn cache_dir() -> PathBuf {
    zkinfer_prover::default_cache_dir().join("solc")
}

/// Compiles `contract` of `source` (one file) with the optimizer on, checking EIP-170.
pub fn compile(source: &str, contract: &str) -> Result<Compiled, EvmError> {
    let input = json!({
        "language": "Solidity",
        "sources": { "Verifier.sol": { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": 1 },
            "evmVersion": EVM_VERSION,
            // No source hash in the code: NatSpec (the SRS line, say) does not change it.
            "metadata": { "bytecodeHash": "none" },
            "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] } }
        }
    })
    .to_string();
    let key = hex::encode(Sha256::digest(input.as_bytes()));
    let cached = cache_dir().join(format!("{key}.json"));
    let output = match std::fs::read_to_string(&cached) {
        Ok(text) => text,
        Err(_) => {
            let text = run_solc(&input)?;
            let _ = std::fs::create_dir_all(cache_dir());
            let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, &text).is_ok() {
                let _ = std::fs::rename(&tmp, &cached);
            }
            text
        }
    };
    parse_output(&output, contract)
}

fn run_solc(input: &str) -> Result<String, EvmError> {
    let solc = node_modules()?.join("solc");
    let mut child = Command::new("node")
        .arg("-e")
        .arg(DRIVER)
        .arg(&solc)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EvmError::NodeMissing {
            reason: e.to_string(),
        })?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .map_err(io_err(Path::new("<node stdin>")))?;
    let out = child
        .wait_with_output()
        .map_err(io_err(Path::new("<node>")))?;
    if !out.status.success() {
        return Err(EvmError::Compile {
            message: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn parse_output(output: &str, contract: &str) -> Result<Compiled, EvmError> {
    let v: Value = serde_json::from_str(output).map_err(|e| EvmError::Compile {
        message: format!("unreadable solc output: {e}"),
    })?;
    let errors: Vec<String> = v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["severity"] == "error")
        .map(|e| e["formattedMessage"].as_str().unwrap_or("?").to_string())
        .collect();
    if !errors.is_empty() {
        return Err(EvmError::Compile {
            message: errors.join("\n"),
        });
    }
    let c = &v["contracts"]["Verifier.sol"][contract];
    let code = |field: &str| -> Result<Vec<u8>, EvmError> {
        let hex_text = c["evm"][field]["object"].as_str().unwrap_or_default();
        hex::decode(hex_text).map_err(|e| EvmError::Compile {
            message: format!("{contract}: bad {field}: {e}"),
        })
    };
    let compiled = Compiled {
        bytecode: code("bytecode")?,
        runtime: code("deployedBytecode")?,
        immutables: immutable_places(&c["evm"]["deployedBytecode"]["immutableReferences"]),
        abi: c["abi"].clone(),
    };
    if compiled.bytecode.is_empty() {
        return Err(EvmError::Compile {
            message: format!("no contract {contract} in the output"),
        });
    }
    if compiled.runtime.len() > MAX_RUNTIME_BYTES {
        return Err(EvmError::CodeTooLarge {
            contract: contract.to_string(),
            size: compiled.runtime.len(),
            limit: MAX_RUNTIME_BYTES,
        });
    }
    Ok(compiled)
}

/// The places of the immutables (`{id: [{start, length}, …]}` in solc's output), sorted.
fn immutable_places(references: &Value) -> Vec<std::ops::Range<usize>> {
    let mut places: Vec<std::ops::Range<usize>> = references
        .as_object()
        .into_iter()
        .flat_map(|ids| ids.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|r| {
            let start = r["start"].as_u64()? as usize;
            Some(start..start + r["length"].as_u64()? as usize)
        })
        .collect();
    places.sort_by_key(|p| p.start);
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(runtime_len: usize) -> String {
        json!({
            "contracts": { "Verifier.sol": { "V": {
                "abi": [],
                "evm": {
                    "bytecode": { "object": "6000" },
                    "deployedBytecode": { "object": "00".repeat(runtime_len) }
                }
            }}}
        })
        .to_string()
    }

    #[test]
    fn runtime_over_eip170_is_refused() {
        assert!(parse_output(&output(MAX_RUNTIME_BYTES), "V").is_ok());
        let err = parse_output(&output(MAX_RUNTIME_BYTES + 1), "V").unwrap_err();
        assert!(matches!(
            err,
            EvmError::CodeTooLarge { size, limit: MAX_RUNTIME_BYTES, .. } if size == MAX_RUNTIME_BYTES + 1
        ));
    }

    #[test]
    fn deployed_code_matches_only_outside_the_immutables() {
        let out = json!({
            "contracts": { "Verifier.sol": { "V": {
                "abi": [],
                "evm": {
                    "bytecode": { "object": "6000" },
                    "deployedBytecode": {
                        "object": "6001000000006002",
                        "immutableReferences": { "7": [{ "start": 2, "length": 4 }] }
                    }
                }
            }}}
        });
        let c = parse_output(&out.to_string(), "V").unwrap();
        assert_eq!(c.immutables, vec![2..6]);
        let filled = [0x60, 0x01, 0xaa, 0xbb, 0xcc, 0xdd, 0x60, 0x02];
        assert_eq!(
            c.immutables_in(&filled),
            Some(vec![vec![0xaa, 0xbb, 0xcc, 0xdd]])
        );
        for other in [
            &filled[..7],
            &[0x60, 0x02, 0, 0, 0, 0, 0x60, 0x02][..],
            &[0x60, 0x01, 0, 0, 0, 0, 0x60, 0x03][..],
        ] {
            assert_eq!(c.immutables_in(other), None, "{other:?}");
        }
    }

    #[test]
    fn solc_errors_are_reported() {
        let out = json!({ "errors": [{ "severity": "error", "formattedMessage": "boom" }] });
        let err = parse_output(&out.to_string(), "V").unwrap_err();
        assert!(matches!(err, EvmError::Compile { message } if message.contains("boom")));
    }

    #[test]
    fn pinned_version_is_read_from_package_json() {
        let v = solc_version();
        assert!(
            v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok()),
            "{v}"
        );
        // The README's install command names the pinned version.
        assert!(include_str!("../README.md").contains(&format!(" solc@{v}`")));
    }

    /// A `node_modules` under `root` holding a (fake) solc-js.
    fn with_solc(root: &Path) -> PathBuf {
        let d = root.join("node_modules");
        std::fs::create_dir_all(d.join("solc")).unwrap();
        std::fs::write(d.join("solc/package.json"), "{}").unwrap();
        d
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zkinfer-solc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn solc_is_found_in_the_checkout_then_the_user_directory() {
        let tmp = scratch("found");
        let user = tmp.join("data/zkinfer");
        let installed = with_solc(&user);
        // An installed binary: no checkout at run time.
        let places = Places {
            var: None,
            checkout: tmp.join("gone/node_modules"),
            user: Some(user.clone()),
        };
        assert_eq!(places.find().unwrap(), installed);
        // In a checkout, its own node_modules comes first.
        let checkout = with_solc(&tmp.join("checkout"));
        let places = Places {
            checkout: checkout.clone(),
            ..places
        };
        assert_eq!(places.find().unwrap(), checkout);
        // The variable, when set, is the only place.
        let places = Places {
            var: Some(tmp.join("empty/node_modules")),
            ..places
        };
        assert!(matches!(places.find(), Err(EvmError::SolcMissing { .. })));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn missing_solc_names_the_npm_install_command() {
        let tmp = scratch("missing");
        let user = tmp.join("data/zkinfer");
        let places = Places {
            var: None,
            checkout: tmp.join("gone/node_modules"),
            user: Some(user.clone()),
        };
        let err = places.find().unwrap_err().to_string();
        let v = solc_version();
        let command = format!("npm install --prefix {} solc@{v}", user.display());
        assert!(err.contains(&command), "{err}");
        assert!(
            err.contains(&tmp.join("gone/node_modules").display().to_string()),
            "{err}"
        );
        assert!(!err.contains("then set"), "{err}");
        // The variable set to a node_modules: npm is told to fill it.
        let var = Places {
            var: Some(tmp.join("empty/node_modules")),
            ..places
        };
        let err = var.find().unwrap_err().to_string();
        let command = format!(
            "npm install --prefix {} solc@{v}",
            tmp.join("empty").display()
        );
        assert!(err.contains(&command), "{err}");
        assert!(!err.contains("then set"), "{err}");
        // To a directory of another name: npm fills DIR/node_modules, so say to point there.
        let other = Places {
            var: Some(tmp.join("elsewhere")),
            ..var
        };
        let err = other.find().unwrap_err().to_string();
        let hint = format!(
            "then set {NODE_MODULES_VAR}={}",
            tmp.join("elsewhere/node_modules").display()
        );
        assert!(err.contains(&hint), "{err}");
    }
}
