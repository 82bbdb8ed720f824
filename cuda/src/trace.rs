//! The per-phase breakdown of a GPU proof, read from halo2-axiom-gpu's own instrumentation:
//! every prover phase is a `tracing` span `halo2_section{phase = "…"}`, every host → device
//! copy an event on target `halo2_perf` (`kind`, `label`, `bytes`), and the allocator logs
//! `GPU mem: …, peak=…` when a section ends. A [`Collector`] layer keeps exactly these (all
//! other callsites are disabled, so the instrumentation costs nothing else).

use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use zkinfer::backend::{PhaseTime, Transfer};

/// What one proof recorded.
#[derive(Default)]
pub(crate) struct Recorded {
    pub phases: Vec<PhaseTime>,
    pub h2d: Vec<Transfer>,
    /// The allocator's peak at the end of the outermost section (`create_proof`), bytes.
    pub peak_device_bytes: Option<u64>,
}

/// The layer: shares its records with the prover through an `Arc`.
#[derive(Clone, Default)]
pub(crate) struct Collector {
    state: Arc<Mutex<Recorded>>,
}

struct SpanStart {
    phase: String,
    start: Instant,
}

impl Collector {
    /// Installs the collector as the global subscriber (once per process).
    pub fn install() -> Self {
        let collector = Self::default();
        let _ = tracing_subscriber::registry()
            .with(collector.clone())
            .try_init();
        collector
    }

    /// Takes what was recorded since the last call.
    pub fn take(&self) -> Recorded {
        std::mem::take(&mut *self.state.lock().expect("collector lock"))
    }
}

fn wanted(meta: &Metadata<'_>) -> bool {
    (meta.is_span() && meta.name() == "halo2_section")
        || (meta.is_event()
            && (meta.target() == "halo2_perf"
                || meta
                    .module_path()
                    .is_some_and(|m| m.starts_with("openvm_cuda_common::memory_manager"))))
}

#[derive(Default)]
struct Fields {
    phase: Option<String>,
    kind: Option<String>,
    label: Option<String>,
    bytes: Option<u64>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "phase" => self.phase = Some(value.to_string()),
            "kind" => self.kind = Some(value.to_string()),
            "label" => self.label = Some(value.to_string()),
            "message" => self.message = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "bytes" {
            self.bytes = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        let text = text.trim_matches('"').to_string();
        self.record_str(field, &text);
    }
}

impl<S> Layer<S> for Collector
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if wanted(meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(meta)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanStart {
                phase: fields.phase.unwrap_or_else(|| "?".into()),
                start: Instant::now(),
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(s) = ext.get::<SpanStart>() else {
            return;
        };
        let seconds = s.start.elapsed().as_secs_f64();
        let mut state = self.state.lock().expect("collector lock");
        match state.phases.iter_mut().find(|p| p.name == s.phase) {
            Some(p) => {
                p.seconds += seconds;
                p.count += 1;
            }
            None => state.phases.push(PhaseTime {
                name: s.phase.clone(),
                seconds,
                count: 1,
            }),
        }
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let mut state = self.state.lock().expect("collector lock");
        if event.metadata().target() == "halo2_perf" {
            if let (Some("h2d"), Some(label), Some(bytes)) = (f.kind.as_deref(), f.label, f.bytes) {
                match state.h2d.iter_mut().find(|t| t.label == label) {
                    Some(t) => t.bytes += bytes,
                    None => state.h2d.push(Transfer { label, bytes }),
                }
            }
        } else if let Some(msg) = f.message {
            // "GPU mem: used=+1.2 GiB, current=…, peak=3.4 GiB, in pool=… (create_proof)"
            if msg.starts_with("GPU mem:") && msg.ends_with("(create_proof)") {
                state.peak_device_bytes = parse_field(&msg, "peak=");
            }
        }
    }
}

/// The byte size after `key` in `msg` (`12.3 GiB`, `512 B`, `1.0 MB`, …).
fn parse_field(msg: &str, key: &str) -> Option<u64> {
    let rest = &msg[msg.find(key)? + key.len()..];
    let value = rest.split(',').next()?.trim();
    parse_size(value)
}

fn parse_size(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..split].parse().ok()?;
    let unit = text[split..].trim();
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    Some((number * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_allocator_line() {
        let msg = "GPU mem: used=+1.5 GiB, current=2.0 GiB, peak=3.5 GiB, in pool=4.0 GiB \
                   (create_proof)";
        assert_eq!(parse_field(msg, "peak="), Some(3_758_096_384));
        assert_eq!(parse_size("512 B"), Some(512));
        assert_eq!(parse_size("1.0 MB"), Some(1_000_000));
        assert_eq!(parse_size("x"), None);
    }
}
