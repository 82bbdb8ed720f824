//! Prove time of the zoo models `mlp_digits` and `cnn_digits` (keys generated once; the
//! development SRS is cached on disk). Compare with `scripts/bench_vs_ezkl.sh`.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use zkinfer::{compile, input::read_inputs, prove, setup, Model, Visibility};

fn bench_model(c: &mut Criterion, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(name);
    let model = Model::from_path(&dir.join("model.onnx")).expect("model loads");
    let input = read_inputs(&dir.join("inputs/input_00.json")).expect("input parses");
    let settings =
        compile(&model, std::slice::from_ref(&input), Visibility::default()).expect("compiles");
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).expect("setup");
    let mut group = c.benchmark_group(format!("prove/{name} (k={})", settings.logrows));
    group.sample_size(10);
    group.bench_function("prove", |b| {
        b.iter(|| prove(&settings, &keys, &input).expect("proves"))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_model(c, "mlp_digits");
    bench_model(c, "cnn_digits");
}

criterion_group!(prove_benches, benches);
criterion_main!(prove_benches);
