//! The scrape: the live aggregates in the Prometheus text format (0.0.4).
//!
//! Written directly into one buffer sized for it, each operation's labels escaped once and
//! reused by its ~20 lines, numbers by `itoa`/`dtoa`, the bucket bounds formatted once. The output is byte for byte what the
//! official encoder (`prometheus-client`'s `prometheus_text`) writes for the same data — the
//! tests hold the two to it ([`oracle`](super::oracle)) — at about five times its speed: with
//! 10,000 operations the official encoder takes ~110 ms per scrape here, too slow for a
//! scrape budget of 50 ms (numbers in the `production` bench).

use std::io;

use crate::model::otlp_status::OtlpStatus;
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::output::metric_families::{
    allocated_by_operation, energy_by_component, span_bucket_counts, SPAN_BUCKETS_NS,
};

/// What one scrape copied from the profiler: nothing here holds a lock.
#[derive(Debug)]
pub(crate) struct ScrapeData {
    pub operations: Vec<OperationStats>,
    pub dropped_events: u64,
    pub last_sample: Option<MonitorSample>,
    /// RSS read at the scrape, where the monitor has no sample.
    pub rss_now: Option<u64>,
    pub otlp: Option<OtlpStatus>,
}

/// The metric types this endpoint exposes.
#[derive(Clone, Copy)]
enum Type {
    Counter,
    Gauge,
    Histogram,
}

/// A sample's value, formatted as the official encoder does (`itoa` for integers, `dtoa` for
/// floats).
#[derive(Clone, Copy)]
enum Value {
    U(u64),
    F(f64),
}

/// The text being written: lines go into `out`, which is handed to `sink` whenever it holds
/// `chunk` bytes or more (so a streamed scrape holds one chunk, not the whole body).
struct Text<'s> {
    out: String,
    chunk: usize,
    sink: &'s mut dyn FnMut(&str) -> io::Result<()>,
    ints: itoa::Buffer,
    floats: dtoa::Buffer,
}

impl Text<'_> {
    /// A family's `# HELP` and `# TYPE` lines. Counters are exposed as `<name>_total`.
    fn family(&mut self, name: &str, help: &str, ty: Type) -> io::Result<()> {
        let suffix = if matches!(ty, Type::Counter) {
            "_total"
        } else {
            ""
        };
        for line in ["# HELP ", "# TYPE "] {
            self.out.push_str(line);
            self.out.push_str(name);
            self.out.push_str(suffix);
            self.out.push(' ');
            if line == "# HELP " {
                escape_help(&mut self.out, help);
            } else {
                self.out.push_str(match ty {
                    Type::Counter => "counter",
                    Type::Gauge => "gauge",
                    Type::Histogram => "histogram",
                });
            }
            self.out.push('\n');
        }
        self.maybe_flush()
    }

    /// One sample line: `name{labels,le=".."} value`, `labels` already escaped and joined.
    fn sample(
        &mut self,
        name: &str,
        labels: &str,
        le: Option<&str>,
        value: Value,
    ) -> io::Result<()> {
        self.out.push_str(name);
        if le.is_some() || !labels.is_empty() {
            self.out.push('{');
            self.out.push_str(labels);
            if let Some(le) = le {
                if !labels.is_empty() {
                    self.out.push(',');
                }
                self.out.push_str("le=\"");
                self.out.push_str(le);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        match value {
            Value::U(v) => self.out.push_str(self.ints.format(v)),
            Value::F(v) if v.is_finite() => self.out.push_str(self.floats.format_finite(v)),
            Value::F(v) if v.is_nan() => self.out.push_str("NaN"),
            Value::F(v) if v > 0.0 => self.out.push_str("+Inf"),
            Value::F(_) => self.out.push_str("-Inf"),
        }
        self.out.push('\n');
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.out.len() >= self.chunk {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            (self.sink)(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }
}

/// `# HELP` text as the format escapes it (backslash and newline).
fn escape_help(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
}

/// Appends `key="value"` (with a leading comma when `out` is not empty), the value escaped
/// as the format wants (backslash, double quote, newline).
fn push_label(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(key);
    out.push_str("=\"");
    let mut last = 0;
    for (i, b) in value.bytes().enumerate() {
        let esc = match b {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            _ => continue,
        };
        out.push_str(&value[last..i]);
        out.push_str(esc);
        last = i + 1;
    }
    out.push_str(&value[last..]);
    out.push('"');
}

/// The joined labels of every operation, `operation="..",kind=".."`, escaped once for the
/// ~20 lines each has: one string and the end of each operation's part.
struct OpLabels {
    text: String,
    ends: Vec<usize>,
}

impl OpLabels {
    fn of(ops: &[OperationStats]) -> Self {
        let mut text = String::with_capacity(ops.iter().map(|o| o.name.len() + 40).sum());
        let mut one = String::with_capacity(128);
        let mut ends = Vec::with_capacity(ops.len());
        for o in ops {
            one.clear();
            push_label(&mut one, "operation", &o.name);
            push_label(&mut one, "kind", o.kind.as_str());
            text.push_str(&one);
            ends.push(text.len());
        }
        OpLabels { text, ends }
    }

    /// The labels of operation `i`.
    fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }
}

/// Bytes of the lines of one operation, an upper estimate so the buffer grows at most
/// rarely (a 10,000-operation scrape is ~20 MiB: a regrowth copies all of it).
fn estimate(ops: &[OperationStats]) -> usize {
    const LINES: usize = SPAN_BUCKETS_NS.len() + 1 + 2 + 4;
    const FIXED: usize = 56 + 24 + 24; // name and suffix, le, value
    ops.iter()
        .map(|o| LINES * (FIXED + 2 * o.name.len() + 32))
        .fold(8192usize, usize::saturating_add)
}

/// A bucket bound as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it (as Go clients and
/// the official Rust encoder write `le`): whole numbers below 1e6 plainly, exponent notation
/// outside [1e-4, 1e6) with a signed two-digit exponent (`2.56e-07`).
fn go_float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        }
        .to_owned();
    }
    if v.fract() == 0.0 && v.abs() < 1e6 {
        return format!("{}", v as i64);
    }
    if (1e-4..1e6).contains(&v.abs()) {
        return format!("{v}");
    }
    let sci = format!("{v:e}");
    match sci.split_once('e') {
        Some((mantissa, exp)) => match exp.parse::<i32>() {
            Ok(e) => format!("{mantissa}e{e:+03}"),
            Err(_) => sci,
        },
        None => sci,
    }
}

/// The `le` labels of the histogram buckets, `+Inf` last, formatted once per scrape.
fn le_labels() -> Vec<String> {
    SPAN_BUCKETS_NS
        .iter()
        .map(|&b| go_float(b as f64 / 1e9))
        .chain(std::iter::once("+Inf".to_owned()))
        .collect()
}

/// Bytes handed to the sink at a time when streaming.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

/// The text of one scrape, whole.
pub(crate) fn encode(data: ScrapeData) -> String {
    let mut whole = String::new();
    let chunk = estimate(&data.operations);
    let mut keep = |s: &str| {
        whole.push_str(s);
        Ok(())
    };
    // Writing into a String cannot fail.
    let _ = encode_to(data, chunk, &mut keep);
    whole
}

/// Writes the text of one scrape to `sink`, `chunk` bytes or more at a time (the last piece
/// may be shorter); stops at the sink's first error and returns it.
pub(crate) fn encode_to(
    data: ScrapeData,
    chunk: usize,
    sink: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let ops = &data.operations;
    let mut t = Text {
        out: String::with_capacity(chunk.min(estimate(ops)).saturating_add(4096)),
        chunk,
        sink,
        ints: itoa::Buffer::new(),
        floats: dtoa::Buffer::new(),
    };
    let labels = OpLabels::of(ops);

    t.family(
        "rram_profiler_calls",
        "Calls of each operation, exact (from the profiler's aggregates)",
        Type::Counter,
    )?;
    for (i, o) in ops.iter().enumerate() {
        let calls = Value::U(o.count);
        t.sample("rram_profiler_calls_total", labels.get(i), None, calls)?;
    }

    t.family(
        "rram_profiler_span_seconds",
        "Wall time of each call, from the profiler's histogram (a bucket counts the calls \
         shorter than its bound)",
        Type::Histogram,
    )?;
    let les = le_labels();
    for (i, o) in ops.iter().enumerate() {
        let l = labels.get(i);
        let mut cumulative = 0u64;
        for (n, le) in span_bucket_counts(o).iter().zip(&les) {
            cumulative = cumulative.saturating_add(*n);
            let c = Value::U(cumulative);
            t.sample("rram_profiler_span_seconds_bucket", l, Some(le), c)?;
        }
        let sum = Value::F(o.total_ns as f64 / 1e9);
        t.sample("rram_profiler_span_seconds_sum", l, None, sum)?;
        t.sample(
            "rram_profiler_span_seconds_count",
            l,
            None,
            Value::U(o.count),
        )?;
    }

    t.family(
        "rram_profiler_self_seconds",
        "Self time of each operation: time in its own code, children excluded",
        Type::Counter,
    )?;
    for (i, o) in ops.iter().enumerate() {
        let s = Value::F(o.self_ns as f64 / 1e9);
        t.sample("rram_profiler_self_seconds_total", labels.get(i), None, s)?;
    }

    let mut l = String::with_capacity(128);
    let energy = energy_by_component(ops);
    if !energy.is_empty() {
        t.family(
            "rram_profiler_energy_picojoules",
            "Energy reported by each operation's spans, by circuit component (`unattributed`: \
             energy_pj not split into components)",
            Type::Counter,
        )?;
        for ((op, component), pj) in &energy {
            l.clear();
            push_label(&mut l, "operation", op);
            push_label(&mut l, "component", component);
            t.sample(
                "rram_profiler_energy_picojoules_total",
                &l,
                None,
                Value::F(*pj),
            )?;
        }
    }

    let allocated = allocated_by_operation(ops);
    if !allocated.is_empty() {
        t.family(
            "rram_profiler_allocated_bytes",
            "Heap bytes allocated within each operation's spans (inclusive of children; needs \
             the CountingAllocator)",
            Type::Counter,
        )?;
        for (op, bytes) in &allocated {
            l.clear();
            push_label(&mut l, "operation", op);
            t.sample(
                "rram_profiler_allocated_bytes_total",
                &l,
                None,
                Value::U(*bytes),
            )?;
        }
    }

    if let Some(rss) = data.last_sample.map(|s| s.rss_bytes).or(data.rss_now) {
        t.family(
            "rram_profiler_resident_bytes",
            "Resident set size of the process (the monitor's newest sample)",
            Type::Gauge,
        )?;
        t.sample("rram_profiler_resident_bytes", "", None, Value::U(rss))?;
    }
    if let Some(s) = data.last_sample {
        t.family(
            "rram_profiler_cpu_percent",
            "CPU use of the process over the monitor's last interval, percent of one core",
            Type::Gauge,
        )?;
        let cpu = Value::F(f64::from(s.cpu_percent));
        t.sample("rram_profiler_cpu_percent", "", None, cpu)?;
    }
    t.family(
        "rram_profiler_events_dropped",
        "Raw events dropped from the bounded buffer (the aggregates still count them)",
        Type::Counter,
    )?;
    let dropped = Value::U(data.dropped_events);
    t.sample("rram_profiler_events_dropped_total", "", None, dropped)?;
    if let Some(s) = &data.otlp {
        t.family(
            "rram_profiler_otlp_spans_sent",
            "Spans the OTLP collector accepted",
            Type::Counter,
        )?;
        let sent = Value::U(s.spans_sent);
        t.sample("rram_profiler_otlp_spans_sent_total", "", None, sent)?;
        t.family(
            "rram_profiler_otlp_spans_dropped",
            "Spans the OTLP stream dropped (collector down, refusing or slow)",
            Type::Counter,
        )?;
        let dropped = Value::U(s.spans_dropped);
        t.sample("rram_profiler_otlp_spans_dropped_total", "", None, dropped)?;
    }
    t.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stats::MetricAggregate;
    use crate::EventKind;
    use proptest::prelude::*;

    use crate::output::metric_families::test_op as op;

    fn sample() -> MonitorSample {
        MonitorSample {
            t_ns: 1,
            rss_bytes: 1 << 20,
            cpu_percent: 50.0,
            ..MonitorSample::default()
        }
    }

    fn data(operations: Vec<OperationStats>) -> ScrapeData {
        ScrapeData {
            operations,
            dropped_events: 3,
            last_sample: Some(sample()),
            rss_now: None,
            otlp: None,
        }
    }

    fn both(d: impl Fn() -> ScrapeData) -> (String, String) {
        let oracle = super::super::oracle::encode(d()).expect("the official encoder writes");
        (encode(d()), oracle)
    }

    #[test]
    fn text_carries_the_fixed_names_and_escapes_labels() {
        let mut o = op("solve \"x\"\n\\", &[2_000]);
        o.alloc.allocated_bytes = 64;
        o.alloc_count = 1;
        let text = encode(data(vec![o]));
        for needle in [
            "rram_profiler_calls_total{operation=\"solve \\\"x\\\"\\n\\\\\",kind=\"hardware_access\"} 1",
            "rram_profiler_span_seconds_bucket{operation=",
            "rram_profiler_span_seconds_count{",
            "rram_profiler_self_seconds_total{",
            "rram_profiler_allocated_bytes_total{operation=",
            "rram_profiler_resident_bytes 1048576",
            "rram_profiler_cpu_percent 50",
            "rram_profiler_events_dropped_total 3",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }

    #[test]
    fn same_text_as_the_official_encoder() {
        let mut a = op("crossbar.mvm", &[100, 5_000, 40_000_000_000]);
        a.metrics
            .insert("energy_pj".into(), MetricAggregate::of(10.0));
        a.metrics
            .insert("energy.adc_pj".into(), MetricAggregate::of(6.0));
        a.alloc.allocated_bytes = 4096;
        a.alloc_count = 2;
        let mut b = op("solve", &[1 << 20]);
        b.kind = EventKind::AlgorithmStep;
        let (ours, official) = both(|| {
            let mut d = data(vec![a.clone(), b.clone()]);
            d.otlp = Some(OtlpStatus {
                spans_sent: 7,
                spans_dropped: 2,
                ..OtlpStatus::default()
            });
            d
        });
        assert_eq!(ours, official);
        // With no monitor sample, the RSS read at the scrape; no CPU%.
        let (ours, official) = both(|| ScrapeData {
            operations: Vec::new(),
            dropped_events: 0,
            last_sample: None,
            rss_now: Some(12345),
            otlp: None,
        });
        assert_eq!(ours, official);
    }

    #[test]
    fn streamed_pieces_add_up_to_the_whole_text_and_a_sink_error_stops_it() {
        let ops: Vec<OperationStats> = (0..50)
            .map(|i| op(&format!("op{i}"), &[i * 1000]))
            .collect();
        let whole = encode(data(ops.clone()));
        let mut pieces = Vec::new();
        let mut keep = |s: &str| {
            pieces.push(s.to_owned());
            Ok(())
        };
        encode_to(data(ops.clone()), 1000, &mut keep).expect("streams");
        assert!(pieces.len() > 10, "{} pieces", pieces.len());
        assert!(pieces.iter().all(|p| !p.is_empty() && p.len() < 1000 + 400));
        assert_eq!(pieces.concat(), whole);

        let mut calls = 0;
        let mut refuse = |_: &str| {
            calls += 1;
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "client gone"))
        };
        let err = encode_to(data(ops), 1000, &mut refuse).expect_err("the sink's error");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(calls, 1, "stops at the first error");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_operations_encode_as_the_official_encoder_does(
            ops in prop::collection::vec(
                ("[a-z\\\\\"\\n. {}=,é]{0,12}", prop::collection::vec(0u64..1 << 40, 0..6),
                 prop::option::of(-1e12f64..1e12), 0u64..u64::MAX / 4),
                0..6,
            ),
            dropped in any::<u64>(),
        ) {
            let operations: Vec<OperationStats> = ops
                .iter()
                .map(|(name, durations, energy, bytes)| {
                    let mut o = op(name, durations);
                    if let Some(e) = energy {
                        o.metrics.insert("energy_pj".into(), MetricAggregate::of(*e));
                        o.metrics.insert("energy.dac_pj".into(), MetricAggregate::of(e / 3.0));
                    }
                    if *bytes % 2 == 1 {
                        o.alloc.allocated_bytes = *bytes;
                        o.alloc_count = 1;
                    }
                    o
                })
                .collect();
            let (ours, official) = both(|| ScrapeData {
                operations: operations.clone(),
                dropped_events: dropped,
                last_sample: Some(sample()),
                rss_now: None,
                otlp: None,
            });
            prop_assert_eq!(ours, official);
        }
    }
}
