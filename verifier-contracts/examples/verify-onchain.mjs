// Verifies a zkinfer proof with its deployed verifier from JavaScript (ethers v6), the way a
// dApp's front end or back end would, and reads the proven outputs at their scales.
//
//   node verify-onchain.mjs RPC_URL DIR PROOF.json
//
// DIR is a model directory set up and deployed with `zkinfer deploy` (its settings.json and
// evm/deployment.json); PROOF.json a proof from `zkinfer prove`. Prints one JSON object:
// {"verified", "verifier", "key", "outputs"}; exit 0 verified, 1 rejected.
import { ethers } from "ethers";
import { readFileSync } from "node:fs";

// The BN254 scalar field: instances are field elements, a negative integer v is R + v.
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const [rpcUrl, dir, proofPath] = process.argv.slice(2);
if (!proofPath) {
  console.error("usage: node verify-onchain.mjs RPC_URL DIR PROOF.json");
  process.exit(2);
}
const read = (path) => JSON.parse(readFileSync(path, "utf8"));
const settings = read(`${dir}/settings.json`);
const proof = read(proofPath);
const { deployments } = read(`${dir}/evm/deployment.json`);

const provider = new ethers.JsonRpcProvider(rpcUrl);
const { chainId } = await provider.getNetwork();
// The newest deployment of the proof's settings and key on this chain (as `zkinfer
// verify-onchain` picks it).
const deployment = deployments.findLast(
  (d) =>
    BigInt(d.chain_id) === chainId &&
    d.settings_hash === proof.settings_hash &&
    d.vk_hash === proof.vk_hash,
);
if (!deployment) {
  console.error(`no deployment of these settings and key on chain ${chainId} in ${dir}`);
  process.exit(2);
}

// The public instances: every output element, then the public inputs, in order.
const toField = (v) => {
  const x = BigInt(v);
  return x < 0n ? R + x : x;
};
const instances = [...proof.public_outputs, ...proof.public_inputs].map(toField);
const verifier = new ethers.Contract(
  deployment.verifier,
  [
    "function verifyProof(bytes proof, uint256[] instances) view returns (bool)",
    "function verifyProof(address vk, bytes proof, uint256[] instances) view returns (bool)",
  ],
  provider,
);
const bytes = `0x${proof.proof}`;
let verified;
try {
  // A verifier shared by several models of one circuit shape reads this model's key
  // contract; otherwise the verifier's own key is this one.
  verified = deployment.key
    ? await verifier["verifyProof(address,bytes,uint256[])"](deployment.key, bytes, instances)
    : await verifier["verifyProof(bytes,uint256[])"](bytes, instances);
} catch (e) {
  // A malformed proof reverts with a custom error (InvalidProof, InvalidInstances, ...).
  verified = false;
}

// Each output tensor's scale: fixed point (value = q / 2^scale) or, for a pre-quantized
// model's int8 output, affine (value = (q - zero_point) * scale). Shown only when verified:
// the proven values are the public instances, never the proof file's own `outputs`.
const outputs = [];
if (verified) {
  const graph = settings.graph;
  let at = 0;
  for (const id of graph.outputs) {
    const t = id < graph.inputs.length ? graph.inputs[id] : graph.nodes[id - graph.inputs.length];
    const n = t.shape.reduce((a, b) => a * b, 1);
    for (const q of proof.public_outputs.slice(at, at + n)) {
      outputs.push(t.affine ? (q - t.affine.zero_point) * t.affine.scale : q / 2 ** t.scale);
    }
    at += n;
  }
}
console.log(
  JSON.stringify({ verified, verifier: deployment.verifier, key: deployment.key, outputs }),
);
process.exit(verified ? 0 : 1);
