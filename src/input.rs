//! Input files: zkinfer's `{"input": [...], "shape": [...]}` (the format of the bundled
//! samples) and EZKL's `{"input_data": [[...], ...]}`.
//!
//! What a file says is checked, never silently dropped: `input` and `input_data` together are
//! refused (neither wins); a `shape` must be an array of non-negative integers holding as
//! many values as `input`, and where the model is known ([`InputFile::check_shape`]) it must
//! be the model's input shape; `shape` beside EZKL's `input_data` (which has none) is refused.
//! Other fields (EZKL's `output_data`, a test's expected outputs, a label) are not read: they
//! are listed in [`InputFile::ignored`], and the CLI warns of them, as cargo warns of an unused
//! manifest key, so that a misspelt `shape` does not pass unnoticed.

use crate::error::{io_err, Error, Result};
use crate::pipeline::{Model, Source};
use serde_json::Value;
use std::path::Path;

/// An input file as read: one flat float vector per model input, and the shape the file
/// declares (zkinfer's format), if it declares one.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InputFile {
    /// One flat float vector per model input.
    pub values: Vec<Vec<f32>>,
    /// The `shape` of zkinfer's format, if given.
    pub shape: Option<Vec<usize>>,
    /// Where the file came from (its path), for messages.
    pub origin: String,
    /// Fields of the file that zkinfer does not read (EZKL's `output_data` aside), in order.
    pub ignored: Vec<String>,
}

impl InputFile {
    /// A warning naming the fields not read, if any.
    pub fn ignored_warning(&self) -> Option<String> {
        if self.ignored.is_empty() {
            return None;
        }
        let names: Vec<String> = self.ignored.iter().map(|k| format!("`{k}`")).collect();
        Some(format!(
            "{}: ignored {} {} (an input file holds `input` and optionally `shape`, or EZKL's \
             `input_data`)",
            self.origin,
            if names.len() == 1 { "field" } else { "fields" },
            names.join(", ")
        ))
    }
}

/// The fields zkinfer reads, in either format, and EZKL's `output_data`, known and not read.
const KNOWN_FIELDS: [&str; 4] = ["input", "shape", "input_data", "output_data"];

/// Parses an input JSON document, keeping the shape it declares.
pub fn parse_input_file(text: &str, origin: &str) -> Result<InputFile> {
    let bad = |reason: String| Error::BadFile {
        path: origin.into(),
        reason,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| {
        bad("expected a JSON object with `input` (and `shape`) or `input_data`".into())
    })?;
    let (has_input, has_data) = (obj.contains_key("input"), obj.contains_key("input_data"));
    if has_input && has_data {
        return Err(bad(
            "both `input` (zkinfer's format) and `input_data` (EZKL's) are given: keep one".into(),
        ));
    }
    if has_data && obj.contains_key("shape") {
        return Err(bad(
            "`shape` goes with `input` (zkinfer's format); EZKL's `input_data` has none (one \
             flat array per model input)"
                .into(),
        ));
    }
    let ignored: Vec<String> = obj
        .keys()
        .filter(|k| !KNOWN_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    let floats = |what: &str, v: &Value| -> Result<Vec<f32>> {
        let arr = v
            .as_array()
            .ok_or_else(|| bad(format!("`{what}` must be an array of numbers, not {v}")))?;
        arr.iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN) as f32),
                Value::String(s) if ["nan", "inf", "-inf"].contains(&s.to_lowercase().as_str()) => {
                    Ok(s.parse::<f32>().unwrap_or(f32::NAN))
                }
                other => Err(bad(format!(
                    "`{what}`: element {i} is not a number: {other}"
                ))),
            })
            .collect()
    };
    if let Some(data) = obj.get("input_data") {
        let arr = data.as_array().ok_or_else(|| {
            bad(format!(
                "`input_data` must be an array of arrays (one per model input), not {data}"
            ))
        })?;
        let values = arr
            .iter()
            .enumerate()
            .map(|(i, x)| floats(&format!("input_data[{i}]"), x))
            .collect::<Result<_>>()?;
        return Ok(InputFile {
            values,
            shape: None,
            origin: origin.into(),
            ignored,
        });
    }
    let Some(data) = obj.get("input") else {
        return Err(bad("expected `input` (with `shape`) or `input_data`".into()));
    };
    let flat = floats("input", data)?;
    let shape = obj
        .get("shape")
        .map(|s| {
            let dims = s
                .as_array()
                .and_then(|a| a.iter().map(|d| d.as_u64()).collect::<Option<Vec<_>>>())
                .ok_or_else(|| {
                    bad(format!(
                        "`shape` must be an array of non-negative integers such as [1,4], not {s}"
                    ))
                })?;
            let count = dims.iter().try_fold(1u64, |n, d| n.checked_mul(*d));
            if count != Some(flat.len() as u64) {
                return Err(bad(format!(
                    "`shape` {s} does not hold the {} values of `input`",
                    flat.len()
                )));
            }
            Ok(dims.into_iter().map(|d| d as usize).collect())
        })
        .transpose()?;
    Ok(InputFile {
        values: vec![flat],
        shape,
        origin: origin.into(),
        ignored,
    })
}

/// Reads and parses an input file, keeping the shape it declares.
pub fn read_input_file(path: &Path) -> Result<InputFile> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_input_file(&text, &path.display().to_string())
}

/// Parses an input JSON document into one flat float vector per model input.
pub fn parse_inputs(text: &str, origin: &str) -> Result<Vec<Vec<f32>>> {
    Ok(parse_input_file(text, origin)?.values)
}

/// Reads and parses an input file.
pub fn read_inputs(path: &Path) -> Result<Vec<Vec<f32>>> {
    Ok(read_input_file(path)?.values)
}

/// The inputs a model declares: name and shape, in order.
pub fn model_inputs(model: &Model) -> Result<Vec<(String, Vec<usize>)>> {
    Ok(match &model.source {
        Source::Float(f) => f.inputs()?,
        Source::Quantized(q) => graph_inputs(&q.graph),
    })
}

/// The inputs a quantized graph declares: name and shape, in order.
pub fn graph_inputs(graph: &crate::Graph) -> Vec<(String, Vec<usize>)> {
    graph
        .inputs
        .iter()
        .map(|i| (i.name.clone(), i.shape.clone()))
        .collect()
}

impl InputFile {
    /// Checks the shape the file declares, if any, against the model's inputs (`inputs`, from
    /// [`model_inputs`] or [`graph_inputs`]): a file that says `"shape": [4, 1]` for a model
    /// input of shape `[1, 4]` is refused, even though it holds as many values. (A count of
    /// values or of inputs that differs is the model's own check, when proving.)
    pub fn check_shape(&self, inputs: &[(String, Vec<usize>)]) -> Result<()> {
        match (&self.shape, inputs) {
            (Some(shape), [(name, expected)]) if shape != expected => Err(Error::BadFile {
                path: self.origin.clone(),
                reason: format!(
                    "`shape` {} is not the shape {} of the model's input `{name}`",
                    json_dims(shape),
                    json_dims(expected)
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// A shape as JSON: `[1,4]`.
fn json_dims(dims: &[usize]) -> String {
    serde_json::to_string(dims).expect("a shape serializes")
}

#[cfg(test)]
mod tests {
    use super::{parse_input_file, parse_inputs};

    fn reason(text: &str) -> String {
        parse_inputs(text, "x").unwrap_err().to_string()
    }

    #[test]
    fn reads_both_formats() {
        let a = parse_inputs(r#"{"input":[1,2.5],"shape":[1,2]}"#, "a").unwrap();
        let b = parse_inputs(r#"{"input_data":[[1,2.5]]}"#, "b").unwrap();
        let c = parse_inputs(r#"{"input_data":[[1,2.5]],"output_data":[[0]]}"#, "c").unwrap();
        let d = parse_inputs(r#"{"input":[1,2.5]}"#, "d").unwrap();
        assert_eq!(a, vec![vec![1.0, 2.5]]);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
    }

    #[test]
    fn rejects_shape_mismatch_and_garbage() {
        assert!(parse_inputs(r#"{"input":[1,2],"shape":[1,3]}"#, "x").is_err());
        assert!(parse_inputs(r#"{"input":["a"]}"#, "x").is_err());
        assert!(parse_inputs("not json", "x").is_err());
        assert!(parse_inputs("[1,2]", "x").is_err());
    }

    #[test]
    fn refuses_both_formats_at_once_naming_both_keys() {
        let r = reason(r#"{"input":[1,2],"input_data":[[3,4]]}"#);
        assert!(r.contains("`input`") && r.contains("`input_data`"), "{r}");
    }

    #[test]
    fn shape_errors_print_json() {
        let r = reason(r#"{"input":[1,2,3,4],"shape":[2,3]}"#);
        assert_eq!(r, "x: `shape` [2,3] does not hold the 4 values of `input`");
        let r = reason(r#"{"input":[1,2,3,4],"shape":"1x4"}"#);
        assert!(r.contains(r#"not "1x4""#), "{r}");
        for bad in [r#"[1,-4]"#, r#"[1,4.5]"#, r#"[1,null]"#] {
            let r = reason(&format!(r#"{{"input":[1,2,3,4],"shape":{bad}}}"#));
            assert!(r.contains("non-negative integers"), "{r}");
            assert!(!r.contains("Number("), "{r}");
        }
        // A product that overflows is no match either.
        let r = reason(r#"{"input":[1],"shape":[4294967296,4294967296,2]}"#);
        assert!(r.contains("does not hold"), "{r}");
    }

    #[test]
    fn lists_the_fields_it_does_not_read() {
        let f = parse_input_file(r#"{"input":[1,2],"label":3,"shap":[1,2]}"#, "x").unwrap();
        assert_eq!(f.ignored, ["label", "shap"]);
        assert_eq!(
            f.ignored_warning().unwrap(),
            "x: ignored fields `label`, `shap` (an input file holds `input` and optionally \
             `shape`, or EZKL's `input_data`)"
        );
        let ezkl = parse_input_file(r#"{"input_data":[[1,2]],"output_data":[[0]]}"#, "x");
        assert_eq!(ezkl.unwrap().ignored_warning(), None);
        let r = reason(r#"{"input_data":[[1,2]],"shape":[1,2]}"#);
        assert!(r.contains("`shape` goes with `input`"), "{r}");
    }

    #[test]
    fn a_declared_shape_must_be_the_models() {
        let f = parse_input_file(r#"{"input":[1,2,3,4],"shape":[4,1]}"#, "x").unwrap();
        let model = vec![("input".to_string(), vec![1, 4])];
        let r = f.check_shape(&model).unwrap_err().to_string();
        assert_eq!(
            r,
            "x: `shape` [4,1] is not the shape [1,4] of the model's input `input`"
        );
        let ok = parse_input_file(r#"{"input":[1,2,3,4],"shape":[1,4]}"#, "x").unwrap();
        ok.check_shape(&model).unwrap();
        let flat = parse_input_file(r#"{"input":[1,2,3,4]}"#, "x").unwrap();
        flat.check_shape(&model).unwrap();
    }
}
