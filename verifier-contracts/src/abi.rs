//! ABI encoding of `verifyProof(bytes proof, uint256[] instances)` (and the overload that
//! names the verifying-key contract first).

use halo2_axiom::halo2curves::bn256::Fr;
use sha3::{Digest, Keccak256};
use zkinfer_prover::transcript::scalar_word;

/// The 4-byte selector of a function or error signature (`"verifyProof(bytes,uint256[])"`).
pub fn selector(sig: &str) -> [u8; 4] {
    Keccak256::digest(sig.as_bytes())[..4]
        .try_into()
        .expect("4 bytes")
}

fn word(v: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(v as u64).to_be_bytes());
    w
}

fn tail(proof: &[u8], instances: &[Fr], head_words: usize, out: &mut Vec<u8>) {
    let padded = proof.len().div_ceil(32) * 32;
    out.extend_from_slice(&word(32 * head_words));
    out.extend_from_slice(&word(32 * head_words + 32 + padded));
    out.extend_from_slice(&word(proof.len()));
    out.extend_from_slice(proof);
    out.resize(out.len() + padded - proof.len(), 0);
    out.extend_from_slice(&word(instances.len()));
    for i in instances {
        out.extend_from_slice(&scalar_word(i));
    }
}

/// Calldata of `verifyProof(bytes,uint256[])`.
pub fn verify_calldata(proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    proof_calldata("verifyProof(bytes,uint256[])", proof, instances)
}

/// Calldata of any function `sig` taking `(bytes proof, uint256[] instances)`, such as a
/// consumer contract's entry point that forwards them to the verifier.
pub fn proof_calldata(sig: &str, proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    let mut out = selector(sig).to_vec();
    tail(proof, instances, 2, &mut out);
    out
}

/// An address as an ABI word (a constructor argument, say).
pub fn address_word(address: [u8; 20]) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&address);
    w
}

/// Whether return data is an ABI-encoded `true`.
pub fn is_true(output: &[u8]) -> bool {
    let mut t = [0u8; 32];
    t[31] = 1;
    output == t
}

/// Calldata of `verifyProof(address,bytes,uint256[])`.
pub fn verify_with_key_calldata(vk: [u8; 20], proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    let mut out = selector("verifyProof(address,bytes,uint256[])").to_vec();
    out.extend_from_slice(&address_word(vk));
    // Offsets count from the start of the arguments: three head words.
    let mut rest = Vec::new();
    tail(proof, instances, 3, &mut rest);
    out.extend_from_slice(&rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_layout() {
        let proof = [0xabu8; 40];
        let data = verify_calldata(&proof, &[Fr::from(7)]);
        let w = |i: usize| &data[4 + 32 * i..4 + 32 * (i + 1)];
        assert_eq!(w(0), word(0x40));
        assert_eq!(w(1), word(0x40 + 32 + 64));
        assert_eq!(w(2), word(40));
        assert_eq!(w(3), &[0xab; 32]);
        assert_eq!(&w(4)[..8], &[0xab; 8]);
        assert_eq!(&w(4)[8..], &[0; 24]);
        assert_eq!(w(5), word(1));
        assert_eq!(w(6), word(7));
        assert_eq!(data.len(), 4 + 32 * 7);
    }
}
