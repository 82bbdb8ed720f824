//! A local anvil node for the on-chain tests: the binary from the npm package
//! `@foundry-rs/anvil-linux-amd64` (pinned in `verifier-contracts/package-lock.json`), started
//! on 127.0.0.1 at a free port, awaited until it answers `eth_chainId`, killed on drop.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zkinfer_chain::Node;

/// anvil's first dev account (its well-known, public test key).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A running anvil.
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC endpoint.
    pub url: String,
}

impl Anvil {
    /// Starts anvil (Osaka rules, like the revm tests; its chain id 31337) and waits until it
    /// answers.
    pub fn start() -> Anvil {
        Self::start_with(&[])
    }

    /// [`Anvil::start`] with more arguments (`--chain-id 1`: a node posing as mainnet).
    #[allow(dead_code)] // not every test file that includes this module uses it
    pub fn start_with(extra: &[&str]) -> Anvil {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("verifier-contracts/node_modules/.bin/anvil");
        assert!(
            bin.exists(),
            "{} missing: run `npm ci` in verifier-contracts/",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--hardfork", "osaka", "--accounts", "2"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let url = format!("http://127.0.0.1:{port}");
        let node = Node::new(&url).unwrap();
        let start = Instant::now();
        loop {
            if node.chain_id().is_ok() {
                return Anvil { child, url };
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                child.stderr.take().map(|mut s| s.read_to_string(&mut err));
                panic!("anvil exited ({status}) before answering: {err}");
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("anvil did not answer on {url} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A client of this node that signs with [`DEV_KEY`].
    pub fn node(&self) -> Node {
        Node::new(&self.url).unwrap().with_key(DEV_KEY).unwrap()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
