//! The profiler next to `tracing-opentelemetry`: for a program that already ships its `tracing`
//! spans to an OpenTelemetry collector. One `tracing_subscriber::registry()` carries both
//! layers, so every span (the program's own, its `#[profile]` functions, the simulator's) goes
//! to both: the profiler keeps exact counts, times and energies; OpenTelemetry exports spans.
//!
//! ```text
//! cargo run --example opentelemetry_layers            # prints both sides and compares them
//! cargo run --example opentelemetry_layers -- DIR     # also writes DIR/profile.json and
//!                                                     # DIR/otel-spans.json (what was exported)
//! ```
//!
//! To keep the build small, the spans go to a stand-in exporter that keeps them in memory
//! (`Received`, a dozen lines). To send them to your collector instead, add
//! `opentelemetry-otlp = "0.33"` (its default features: OTLP/HTTP protobuf with a blocking
//! `reqwest` client, 54 crates more in this workspace's build) and change the provider to
//!
//! ```text
//! let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
//! let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).build();
//! ```
//!
//! (the endpoint comes from `OTEL_EXPORTER_OTLP_ENDPOINT`, by default
//! `http://localhost:4318`). The profiler's own spans, with their energy by component and
//! allocation figures as attributes, go to the same collector without that crate:
//! `PerformanceProfiler::builder().otlp(URL)` live, or `rram-prof export profile.json --format
//! otlp --endpoint URL` afterwards. (`metrics!` values such as `energy_pj` reach only the
//! profiler: they are not `tracing` fields.)

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::UNIX_EPOCH;

use nalgebra::{DMatrix, DVector};
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use rram_profiler::profiler_runtime::output::write::SafeWriter;
use rram_profiler::profiler_runtime::PerformanceReport;
use rram_profiler::rram_sim::{hp_inv, Crossbar, DeviceParams, HpInvConfig, SimError};
use rram_profiler::{profile, PerformanceProfiler, Profile};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The stand-in collector: an OpenTelemetry span exporter that keeps every span it receives.
#[derive(Debug, Clone, Default)]
struct Received(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Received {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(batch);
        std::future::ready(Ok(()))
    }
}

/// Digital refinement on the host: one `#[profile]`-ed step around an analogue solve.
#[profile(kind = "computation", skip_all, fields(n = g.nrows()), err)]
fn solve_on_array(g: &DMatrix<f64>, b: &DVector<f64>) -> Result<DVector<f64>, SimError> {
    let cfg = HpInvConfig {
        max_iter: 8,
        ..HpInvConfig::default()
    };
    Ok(hp_inv(g, b, &cfg)?.x)
}

/// Power iteration on a programmed crossbar: each step an analogue MVM (`crossbar.mvm`).
#[profile(kind = "hardware_access", skip_all, fields(steps = steps))]
fn power_iteration(xbar: &mut Crossbar, n: usize, steps: usize) -> f64 {
    let mut x = DVector::from_element(n, 1.0);
    let mut norm = 0.0;
    for _ in 0..steps {
        let y = xbar.matrix_vector_multiply(&x).expect("x fits the array").y;
        norm = y.norm().max(f64::MIN_POSITIVE);
        x = y / norm;
    }
    norm
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args().nth(1).map(PathBuf::from);

    // The OpenTelemetry side, as the program already had it (only the exporter differs).
    let received = Received::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(received.clone())
        .with_resource(Resource::builder().with_service_name("rram-bench").build())
        .build();
    let tracer = provider.tracer("rram-bench");

    // The profiler's layer joins the same registry: one line.
    let profiler = PerformanceProfiler::new();
    tracing_subscriber::registry()
        .with(profiler.layer())
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();

    // The program: two "requests" (its own `tracing` spans), each a solve and an MVM sweep.
    let n = 16;
    // Diagonally dominant: HP-INV converges on 3-bit cells.
    let g = rram_sim::systems::diagonally_dominant(n);
    let b = DVector::from_fn(n, |i, _| 1.0 + i as f64 / n as f64);
    let mut xbar = Crossbar::new(n, n, DeviceParams::taox_3bit(), 42);
    xbar.write_matrix(&g)?;
    for request in 0..2 {
        let span = tracing::info_span!("handle_request", request);
        let _entered = span.enter();
        tracing::info!("solving"); // an OpenTelemetry span event; the profiler ignores it
        let x = solve_on_array(&g, &b)?;
        let lambda = power_iteration(&mut xbar, n, 5);
        tracing::info!(
            residual = (&b - &g * &x).norm() / b.norm(),
            lambda,
            "solved"
        );
    }

    // Both sides now hold the same spans.
    provider.force_flush()?;
    let profile = profiler.snapshot();
    let spans = std::mem::take(&mut *received.0.lock().unwrap_or_else(PoisonError::into_inner));
    provider.shutdown()?;

    let report = PerformanceReport::from_profile(&profile);
    let mut otel_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &spans {
        *otel_counts.entry(s.name.as_ref()).or_default() += 1;
    }
    println!(
        "{:<26} {:>9} {:>14} {:>14}",
        "operation", "profiler", "OpenTelemetry", "own energy pJ"
    );
    let mut profiler_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for op in &report.operations {
        *profiler_counts.entry(op.name.as_str()).or_default() += op.count;
        println!(
            "{:<26} {:>9} {:>14} {:>14}",
            op.name,
            op.count,
            otel_counts.get(op.name.as_str()).copied().unwrap_or(0),
            op.energy_pj.map_or("-".to_owned(), |pj| format!("{pj:.1}"))
        );
    }
    let links = parent_links_agree(&profile, &spans);
    println!(
        "{} spans exported to OpenTelemetry, {} events in the profile ({} dropped); \
         parent links agree: {links}",
        spans.len(),
        profile.events.len(),
        profile.dropped_events
    );
    if profiler_counts != otel_counts || !links || profile.dropped_events != 0 {
        return Err("the profiler and OpenTelemetry saw different spans".into());
    }
    println!(
        "the same {} spans reached both layers: every operation's count and every parent link agree",
        spans.len()
    );

    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir)?;
        profile.save(dir.join("profile.json"))?;
        let exported = serde_json::to_vec_pretty(&spans.iter().map(span_json).collect::<Vec<_>>())?;
        SafeWriter::new(dir.join("otel-spans.json")).write_bytes(&exported)?;
        println!(
            "wrote profile.json and otel-spans.json in {}",
            dir.display()
        );
    }
    Ok(())
}

/// Whether the two sides agree on who is whose parent: the multisets of (span name, parent's
/// name) pairs are equal.
fn parent_links_agree(profile: &Profile, spans: &[SpanData]) -> bool {
    let event_names: BTreeMap<u64, &str> = profile
        .events
        .iter()
        .map(|e| (e.id, e.name.as_ref()))
        .collect();
    let mut from_profiler: Vec<(&str, Option<&str>)> = profile
        .events
        .iter()
        .map(|e| {
            let parent = e.parent.and_then(|p| event_names.get(&p).copied());
            (e.name.as_ref(), parent)
        })
        .collect();
    let span_names: HashMap<SpanId, &str> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s.name.as_ref()))
        .collect();
    let mut from_otel: Vec<(&str, Option<&str>)> = spans
        .iter()
        .map(|s| (s.name.as_ref(), span_names.get(&s.parent_span_id).copied()))
        .collect();
    from_profiler.sort_unstable();
    from_otel.sort_unstable();
    from_profiler == from_otel
}

/// One exported span as JSON: what a collector would store (ids in hex, as OTLP/JSON has them).
fn span_json(s: &SpanData) -> serde_json::Value {
    let unix_ns = |t: std::time::SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    };
    let parent = (s.parent_span_id != SpanId::INVALID).then(|| s.parent_span_id.to_string());
    let attributes: serde_json::Map<String, serde_json::Value> = s
        .attributes
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.to_string().into()))
        .collect();
    serde_json::json!({
        "name": s.name,
        "trace_id": s.span_context.trace_id().to_string(),
        "span_id": s.span_context.span_id().to_string(),
        "parent_span_id": parent,
        "start_unix_ns": unix_ns(s.start_time),
        "end_unix_ns": unix_ns(s.end_time),
        "events": s.events.iter().map(|e| e.name.to_string()).collect::<Vec<_>>(),
        "attributes": attributes,
    })
}
