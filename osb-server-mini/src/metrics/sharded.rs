//! Counters and latency histograms of atomics, sharded by thread, so that recording a
//! request takes no lock and shares no cache line with another worker thread: the
//! `prometheus-client` histogram locks a mutex per observation, and even a single shared
//! atomic bounces between the cores answering requests.
//!
//! They are encoded by `prometheus-client` like its own counters and histograms. The
//! histogram buckets are 1 ms doubling to about 33 s, and `+Inf`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::shard::{SHARDS, index as shard};

/// How many finite buckets: upper bounds 1 ms · 2^k for k in 0..BUCKETS.
const BUCKETS: usize = 16;

/// The finite upper bounds, in nanoseconds.
const BOUNDS_NANOS: [u64; BUCKETS] = {
    let mut bounds = [0; BUCKETS];
    let mut k = 0;
    while k < BUCKETS {
        bounds[k] = 1_000_000 << k;
        k += 1;
    }
    bounds
};

/// One counter's shard, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct CounterShard(AtomicU64);

/// A counter; clones share their count.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<[CounterShard; SHARDS]>);

impl Counter {
    /// Adds one.
    pub(crate) fn inc(&self) {
        self.0[shard()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

impl TypedMetric for Counter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for Counter {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// One histogram's shard, on cache lines of its own.
#[derive(Default)]
#[repr(align(128))]
struct LatencyShard {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; BUCKETS + 1],
    count: AtomicU64,
    /// The sum of the observations, in nanoseconds (exact, and a plain atomic add).
    sum_nanos: AtomicU64,
}

/// A latency histogram; clones share their counts.
#[derive(Clone, Default)]
pub(crate) struct Latency(Arc<[LatencyShard; SHARDS]>);

impl std::fmt::Debug for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: u64 = self.0.iter().map(|s| s.count.load(Ordering::Relaxed)).sum();
        f.debug_struct("Latency")
            .field("count", &count)
            .finish_non_exhaustive()
    }
}

impl Latency {
    /// Records one observation.
    pub(crate) fn observe(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS
            .iter()
            .position(|&bound| nanos <= bound)
            .unwrap_or(BUCKETS);
        let shard = &self.0[shard()];
        shard.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        shard.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        shard.count.fetch_add(1, Ordering::Relaxed);
    }

    /// `(upper bound in seconds, observations in that bucket)`, `+Inf` last.
    fn buckets(&self) -> Vec<(f64, u64)> {
        BOUNDS_NANOS
            .iter()
            .map(|&b| b as f64 / 1e9)
            .chain(std::iter::once(f64::INFINITY))
            .enumerate()
            .map(|(i, bound)| {
                let n = self.0.iter().map(|s| s.buckets[i].load(Ordering::Relaxed)).sum();
                (bound, n)
            })
            .collect()
    }
}

impl TypedMetric for Latency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Latency {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        // A scrape racing a request may see it in one bucket and not yet in the count:
        // the count is never below the buckets' total.
        let buckets = self.buckets();
        let count: u64 = self.0.iter().map(|s| s.count.load(Ordering::Relaxed)).sum();
        let count = count.max(buckets.iter().map(|b| b.1).sum());
        let sum: u64 = self.0.iter().map(|s| s.sum_nanos.load(Ordering::Relaxed)).sum();
        encoder.encode_histogram::<NoLabelSet>(sum as f64 / 1e9, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    fn render(latency: &Latency) -> String {
        let mut registry = Registry::default();
        registry.register("took", "time taken", latency.clone());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    fn line<'t>(text: &'t str, series: &str) -> &'t str {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }

    #[test]
    fn observations_land_in_cumulative_buckets_with_an_exact_sum() {
        let latency = Latency::default();
        latency.observe(Duration::from_micros(500)); // <= 1 ms
        latency.observe(Duration::from_millis(1)); // <= 1 ms (bounds are inclusive)
        latency.observe(Duration::from_micros(1_500)); // <= 2 ms
        latency.observe(Duration::from_secs(3600)); // past the last bound: +Inf only
        let text = render(&latency);
        assert!(text.contains("# TYPE took histogram"), "{text}");
        assert_eq!(line(&text, r#"took_bucket{le="0.001"}"#), "2");
        assert_eq!(line(&text, r#"took_bucket{le="0.002"}"#), "3");
        assert_eq!(line(&text, r#"took_bucket{le="32.768"}"#), "3");
        assert_eq!(line(&text, r#"took_bucket{le="+Inf"}"#), "4");
        assert_eq!(line(&text, "took_count"), "4");
        assert_eq!(line(&text, "took_sum").parse::<f64>().unwrap(), 3600.003);
    }

    #[test]
    fn clones_and_threads_share_their_counts() {
        let latency = Latency::default();
        let counter = Counter::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let (latency, counter) = (latency.clone(), counter.clone());
                s.spawn(move || {
                    for _ in 0..1000 {
                        latency.observe(Duration::from_millis(5));
                        counter.inc();
                    }
                });
            }
        });
        assert_eq!(line(&render(&latency), "took_count"), "4000");
        assert_eq!(line(&render(&latency), r#"took_bucket{le="0.008"}"#), "4000");
        assert_eq!(counter.get(), 4000);
        let mut registry = Registry::default();
        registry.register("calls", "calls made", counter);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("# TYPE calls counter"), "{text}");
        assert_eq!(line(&text, "calls_total"), "4000");
    }
}
