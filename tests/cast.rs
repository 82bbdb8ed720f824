//! Cast float → int64 → float end to end (tests/data/onnx/unary/cast_int.onnx): integral
//! values prove and verify; a non-integral value is a clear error naming the Cast node.

use std::path::Path;
use zkinfer::{
    compile, input::read_inputs, prove, setup, verify, CircuitError, Error, Model, Visibility,
};

#[test]
fn cast_to_int_of_integral_values_proves_and_others_are_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/unary");
    let model = Model::from_path(&dir.join("cast_int.onnx")).unwrap();
    let input = read_inputs(&dir.join("cast_int.json")).unwrap();
    let settings = compile(&model, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let proof = prove(&settings, &keys, &input).unwrap();
    assert!(verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
        .unwrap()
        .is_verified());
    assert_eq!(proof.outputs, vec![2.0, -1.0, 8.0, 13.0, 1.0, -8.0]);
    let mut bad = input.clone();
    bad[0][0] = 0.3;
    let err = prove(&settings, &keys, &bad).unwrap_err();
    let Error::Circuit(CircuitError::NotIntegral { node, index, .. }) = &err else {
        panic!("expected NotIntegral, got {err}");
    };
    assert_eq!((node.as_str(), *index), ("to_int", 0));
}
