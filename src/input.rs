//! Input files: zkinfer's `{"input": [...], "shape": [...]}` (the format of the bundled
//! samples) and EZKL's `{"input_data": [[...], ...]}`.

use crate::error::{io_err, Error, Result};
use serde_json::Value;
use std::path::Path;

/// Parses an input JSON document into one flat float vector per model input.
pub fn parse_inputs(text: &str, origin: &str) -> Result<Vec<Vec<f32>>> {
    let bad = |reason: String| Error::BadFile {
        path: origin.into(),
        reason,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let floats = |v: &Value| -> Result<Vec<f32>> {
        let arr = v
            .as_array()
            .ok_or_else(|| bad("expected an array of numbers".into()))?;
        arr.iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN) as f32),
                Value::String(s) if ["nan", "inf", "-inf"].contains(&s.to_lowercase().as_str()) => {
                    Ok(s.parse::<f32>().unwrap_or(f32::NAN))
                }
                other => Err(bad(format!("element {i} is not a number: {other}"))),
            })
            .collect()
    };
    if let Some(data) = v.get("input_data") {
        let arr = data
            .as_array()
            .ok_or_else(|| bad("`input_data` must be an array of arrays".into()))?;
        return arr.iter().map(floats).collect();
    }
    if let Some(data) = v.get("input") {
        let flat = floats(data)?;
        if let Some(shape) = v.get("shape").and_then(Value::as_array) {
            let n: u64 = shape.iter().map(|d| d.as_u64().unwrap_or(0)).product();
            if n as usize != flat.len() {
                return Err(bad(format!(
                    "`shape` {shape:?} holds {n} values, `input` has {}",
                    flat.len()
                )));
            }
        }
        return Ok(vec![flat]);
    }
    Err(bad("expected `input` (with `shape`) or `input_data`".into()))
}

/// Reads and parses an input file.
pub fn read_inputs(path: &Path) -> Result<Vec<Vec<f32>>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_inputs(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_inputs;

    #[test]
    fn reads_both_formats() {
        let a = parse_inputs(r#"{"input":[1,2.5],"shape":[1,2]}"#, "a").unwrap();
        let b = parse_inputs(r#"{"input_data":[[1,2.5]]}"#, "b").unwrap();
        assert_eq!(a, vec![vec![1.0, 2.5]]);
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_shape_mismatch_and_garbage() {
        assert!(parse_inputs(r#"{"input":[1,2],"shape":[1,3]}"#, "x").is_err());
        assert!(parse_inputs(r#"{"input":["a"]}"#, "x").is_err());
        assert!(parse_inputs("not json", "x").is_err());
    }
}
