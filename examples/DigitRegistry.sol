// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

/// The interface of a zkinfer verifier (`zkinfer create-verifier`).
interface IZkinferVerifier {
    /// @param proof The proof bytes (`zkinfer calldata` encodes a whole call).
    /// @param instances The model's outputs, flattened, then its public inputs; each a field
    /// element (`r - |v|` for a negative quantized value `v`).
    /// @return True when the proof holds; malformed proofs revert.
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);
}

/// @title DigitRegistry
/// @notice Records handwritten-digit classifications, and only proven ones: a caller submits
/// a zkinfer proof that the `mlp_digits` model produced these 10 logits from some 8x8 image;
/// the contract checks it with the verifier and records the arg-max as the digit.
contract DigitRegistry {
    /// @notice The BN254 scalar field order: instances above `R / 2` encode negative values.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice Logits per classification.
    uint256 public constant CLASSES = 10;

    /// @notice The verifier of the digit model.
    IZkinferVerifier public immutable verifier;

    /// @notice Digits recorded, in order.
    uint8[] public digits;

    /// @notice The account that recorded each digit.
    address[] public recordedBy;

    /// @notice A proven classification was recorded.
    event DigitRecorded(address indexed by, uint256 indexed index, uint8 digit);

    /// @notice The verifier returned false.
    error ProofRejected();

    /// @notice The call does not carry one logit per class.
    error WrongInstanceCount(uint256 got);

    constructor(IZkinferVerifier verifier_) {
        verifier = verifier_;
    }

    /// @notice Verifies the proof and records the arg-max of its 10 logits.
    /// @return digit The recorded digit.
    function record(bytes calldata proof, uint256[] calldata instances) external returns (uint8 digit) {
        if (instances.length != CLASSES) revert WrongInstanceCount(instances.length);
        if (!verifier.verifyProof(proof, instances)) revert ProofRejected();
        digit = argmax(instances);
        digits.push(digit);
        recordedBy.push(msg.sender);
        emit DigitRecorded(msg.sender, digits.length - 1, digit);
    }

    /// @notice How many digits are recorded.
    function count() external view returns (uint256) {
        return digits.length;
    }

    /// @notice The index of the largest logit (the first on ties), reading each instance as
    /// a signed value.
    function argmax(uint256[] calldata logits) public pure returns (uint8 best) {
        int256 top = signed(logits[0]);
        for (uint256 i = 1; i < logits.length; i++) {
            int256 v = signed(logits[i]);
            if (v > top) {
                top = v;
                best = uint8(i);
            }
        }
    }

    /// @notice A field element as the signed integer it encodes.
    function signed(uint256 x) internal pure returns (int256) {
        return x > R / 2 ? -int256(R - x) : int256(x);
    }
}
