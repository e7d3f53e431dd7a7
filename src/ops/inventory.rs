//! The per-project resource gauges (KMS keys by state, CSMS secrets by
//! state, VPC endpoints by status, pending notifications), sampled by a
//! background task every `[metrics] inventory_interval_secs` instead of
//! counted on each scrape. Per project of the directory, keys and secrets
//! come from counts the services keep in their writes' transactions (a few
//! rows, whatever the project holds); endpoints are read, which the
//! endpoint quota bounds (50). The directory is the config file's, so a
//! sample is bounded too.

use super::metrics::{metrics, ProjectLabels};
use crate::server::state::AppState;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashSet;
use std::time::Duration;

/// Outbox rows counted at most; beyond it the gauge says "at least".
const OUTBOX_BOUND: usize = 10_000;

type Counts = Vec<(&'static str, usize)>;

/// Sets one project's series of `family`; states seen before and now absent go to 0.
fn publish(
    family: &Family<ProjectLabels, Gauge>,
    seen: &mut HashSet<ProjectLabels>,
    project: &str,
    counts: Counts,
) {
    let mut now: HashSet<ProjectLabels> = HashSet::new();
    for (state, n) in counts {
        let labels = ProjectLabels {
            project_id: project.to_owned(),
            state,
        };
        family.get_or_create(&labels).set(n as i64);
        now.insert(labels);
    }
    seen.retain(|old| {
        if old.project_id != project || now.contains(old) {
            return true;
        }
        family.get_or_create(old).set(0);
        false
    });
    seen.extend(now);
}

#[derive(Default)]
struct Seen {
    keys: HashSet<ProjectLabels>,
    secrets: HashSet<ProjectLabels>,
    endpoints: HashSet<ProjectLabels>,
}

/// One sample of every gauge; a project whose read fails keeps its last values.
async fn sample(app: &AppState, seen: &mut Seen) {
    let m = metrics();
    let projects: Vec<String> = app
        .directory
        .all_projects()
        .map(|(_, p)| p.id.clone())
        .collect();
    let mut failed = false;
    for project in &projects {
        match crate::kms::inventory(app, project).await {
            Ok(c) => publish(&m.keys, &mut seen.keys, project, c),
            Err(_) => failed = true,
        }
        match crate::csms::inventory(app, project).await {
            Ok(c) => publish(&m.secrets, &mut seen.secrets, project, c),
            Err(_) => failed = true,
        }
        match crate::vpcep::inventory(app, project).await {
            Ok(c) => publish(&m.endpoints, &mut seen.endpoints, project, c),
            Err(_) => failed = true,
        }
    }
    match crate::csms::pending_notifications(app, OUTBOX_BOUND).await {
        Ok(n) => {
            m.notifications_pending.set(n as i64);
            m.inventory_truncated.set(i64::from(n >= OUTBOX_BOUND));
        }
        Err(_) => failed = true,
    }
    m.job_run("inventory", !failed);
    if failed {
        tracing::warn!(
            "inventory sample: some projects could not be read; their gauges keep old values"
        );
    }
    m.inventory_sampled_at.set(app.clock.wall().timestamp());
}

/// Samples now and then every `every` until `stop` turns.
pub fn spawn(
    app: AppState,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = Seen::default();
        loop {
            sample(&app, &mut seen).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_that_empties_goes_to_zero_and_other_projects_stay() {
        let family: Family<ProjectLabels, Gauge> = Family::default();
        let mut seen = HashSet::new();
        publish(
            &family,
            &mut seen,
            "p1",
            vec![("enabled", 2), ("disabled", 1)],
        );
        publish(&family, &mut seen, "p2", vec![("enabled", 5)]);
        publish(&family, &mut seen, "p1", vec![("enabled", 3)]);
        let get = |p: &str, s: &'static str| {
            family
                .get_or_create(&ProjectLabels {
                    project_id: p.into(),
                    state: s,
                })
                .get()
        };
        assert_eq!((get("p1", "enabled"), get("p1", "disabled")), (3, 0));
        assert_eq!(get("p2", "enabled"), 5);
    }
}
