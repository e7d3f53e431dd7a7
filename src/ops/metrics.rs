//! The process's metrics, in one registry rendered as the Prometheus text
//! format (`GET /metrics`). Process-wide on purpose: the storage layer and
//! the error plumbing count without an `AppState` at hand, and one process
//! serves one `/metrics`.
//!
//! Every label value is a `&'static str` from a closed set (operation names
//! of the route table, error kinds, job names) or a project id of the
//! directory, so label cardinality is bounded. Recording is a read-locked
//! map lookup plus an atomic add: negligible next to a request.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: &'static str,
    operation: &'static str,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    service: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ItemLabels {
    job: &'static str,
    item: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProjectLabels {
    pub project_id: String,
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

type Timings = Family<OperationLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Timings,
    auth_failures: Family<AuthLabels, Counter>,
    storage_errors: Family<KindLabels, Counter>,
    pool_wait: Histogram,
    job_runs: Family<JobLabels, Counter>,
    job_items: Family<ItemLabels, Counter>,
    /// Sampled by `ops::inventory`, not kept in the request's transaction.
    pub keys: Family<ProjectLabels, Gauge>,
    pub secrets: Family<ProjectLabels, Gauge>,
    pub endpoints: Family<ProjectLabels, Gauge>,
    pub notifications_pending: Gauge,
    pub inventory_sampled_at: Gauge,
    pub inventory_truncated: Gauge,
}

/// Request latency buckets: 0.5 ms doubling to ~16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("dewstack");
        let m = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            auth_failures: Family::default(),
            storage_errors: Family::default(),
            pool_wait: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            job_runs: Family::default(),
            job_items: Family::default(),
            keys: Family::default(),
            secrets: Family::default(),
            endpoints: Family::default(),
            notifications_pending: Gauge::default(),
            inventory_sampled_at: Gauge::default(),
            inventory_truncated: Gauge::default(),
            registry: Registry::default(),
        };
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        let r = &mut registry;
        r.register("build_info", "dewstack version (value 1)", build);
        r.register(
            "http_requests",
            "API requests by service, catalog operation and status class",
            m.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "API request latency by service and catalog operation",
            m.latency.clone(),
        );
        r.register(
            "auth_failures",
            "Refused authentications by service and reason",
            m.auth_failures.clone(),
        );
        r.register(
            "storage_errors",
            "Storage failures reported to a request or a background job, by kind",
            m.storage_errors.clone(),
        );
        r.register(
            "postgres_pool_wait_seconds",
            "Time spent waiting for a PostgreSQL connection from the pool",
            m.pool_wait.clone(),
        );
        r.register(
            "background_runs",
            "Background job rounds by job and outcome",
            m.job_runs.clone(),
        );
        r.register(
            "background_items",
            "What background jobs did, by job and item",
            m.job_items.clone(),
        );
        r.register(
            "kms_keys",
            "KMS keys per project and state (sampled)",
            m.keys.clone(),
        );
        r.register(
            "csms_secrets",
            "CSMS secrets per project and state (sampled)",
            m.secrets.clone(),
        );
        r.register(
            "vpcep_endpoints",
            "VPC endpoints per project and status (sampled)",
            m.endpoints.clone(),
        );
        r.register(
            "csms_notifications_pending",
            "Event notifications waiting in the outbox (sampled)",
            m.notifications_pending.clone(),
        );
        r.register(
            "inventory_sampled_timestamp_seconds",
            "When the per-project resource gauges were last sampled",
            m.inventory_sampled_at.clone(),
        );
        r.register(
            "inventory_truncated",
            "1 when the last sample hit its row bound and the gauges undercount",
            m.inventory_truncated.clone(),
        );
        Self { registry, ..m }
    }

    pub fn request(&self, service: &'static str, operation: &'static str, status: u16, secs: f64) {
        let status_class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                service,
                operation,
                status_class,
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels { service, operation })
            .observe(secs);
    }

    pub fn auth_failure(&self, service: &'static str, reason: &'static str) {
        self.auth_failures
            .get_or_create(&AuthLabels { service, reason })
            .inc();
    }

    pub fn storage_error(&self, kind: &'static str) {
        self.storage_errors
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    pub fn pool_wait(&self, secs: f64) {
        self.pool_wait.observe(secs);
    }

    /// One round of background job `job`, and what it did.
    pub fn job_run(&self, job: &'static str, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.job_runs
            .get_or_create(&JobLabels { job, outcome })
            .inc();
    }

    pub fn job_items(&self, job: &'static str, item: &'static str, n: usize) {
        self.job_items
            .get_or_create(&ItemLabels { job, item })
            .inc_by(n as u64);
    }

    /// The OpenMetrics 1.0 text format (which Prometheus reads), ending in `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_value(text: &str, prefix: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn requests_are_counted_by_status_class_and_timed() {
        let m = Metrics::new();
        m.request("kms", "CreateKey", 200, 0.002);
        m.request("kms", "CreateKey", 201, 0.004);
        m.request("kms", "CreateKey", 404, 0.001);
        let text = m.render();
        let ok = r#"dewstack_http_requests_total{service="kms",operation="CreateKey",status_class="2xx"}"#;
        let bad = r#"dewstack_http_requests_total{service="kms",operation="CreateKey",status_class="4xx"}"#;
        assert_eq!(line_value(&text, ok), Some(2.0), "{text}");
        assert_eq!(line_value(&text, bad), Some(1.0));
        let count =
            r#"dewstack_http_request_duration_seconds_count{service="kms",operation="CreateKey"}"#;
        assert_eq!(line_value(&text, count), Some(3.0));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn jobs_auth_and_storage_are_counted() {
        let m = Metrics::new();
        m.job_run("kms_deletions", true);
        m.job_run("kms_deletions", false);
        m.job_items("kms_deletions", "keys_deleted", 3);
        m.auth_failure("csms", "signature_mismatch");
        m.storage_error("unavailable");
        m.pool_wait(0.01);
        let text = m.render();
        for (series, want) in [
            (
                r#"dewstack_background_runs_total{job="kms_deletions",outcome="error"}"#,
                1.0,
            ),
            (
                r#"dewstack_background_items_total{job="kms_deletions",item="keys_deleted"}"#,
                3.0,
            ),
            (
                r#"dewstack_auth_failures_total{service="csms",reason="signature_mismatch"}"#,
                1.0,
            ),
            (r#"dewstack_storage_errors_total{kind="unavailable"}"#, 1.0),
            ("dewstack_postgres_pool_wait_seconds_count", 1.0),
        ] {
            assert_eq!(line_value(&text, series), Some(want), "{series} in {text}");
        }
    }
}
