//! Rotation tasks (ListSecretTask): one per rotation, SUCCESS or FAILED.
//! Stored as `csms_tasks` `project/{ms:016}/{id}`, so a scan lists them oldest
//! first. The cloud publishes no retention: dewstack keeps the newest
//! `MAX_TASKS` per project (dewstack's choice, as for notification records).

use crate::csms::error::CsmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const TASKS: &str = "csms_tasks";
/// Tasks kept per project (dewstack's choice).
pub const MAX_TASKS: usize = 500;
pub const SUCCESS: &str = "SUCCESS";
pub const FAILED: &str = "FAILED";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretTask {
    pub task_id: String,
    pub secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_func_urn: Option<String>,
    pub task_status: String,
    pub operate_type: String,
    pub task_time: i64,
    pub attempt_nums: i64,
    pub task_error_code: String,
    pub task_error_msg: String,
}

/// Saves a task of `project` and drops the oldest beyond `MAX_TASKS`.
pub fn record(tx: &mut dyn Tx, project: &str, task: &SecretTask) -> Result<(), CsmsError> {
    let key = format!("{project}/{:016}/{}", task.task_time.max(0), task.task_id);
    tx.put_json(TASKS, &key, task)?;
    crate::csms::jobs::records::prune_to(tx, TASKS, project, MAX_TASKS)
}

/// A project's tasks, oldest first (at most `MAX_TASKS` plus what an old
/// database may still hold).
pub fn list(tx: &mut dyn Tx, project: &str) -> Result<Vec<SecretTask>, CsmsError> {
    Ok(tx
        .scan_json::<SecretTask>(TASKS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, t)| t)
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Db;

    fn task(n: i64) -> SecretTask {
        SecretTask {
            task_id: format!("t{n}"),
            secret_name: "s".into(),
            rotation_func_urn: None,
            task_status: SUCCESS.into(),
            operate_type: "ROTATE".into(),
            task_time: n,
            attempt_nums: 1,
            task_error_code: String::new(),
            task_error_msg: String::new(),
        }
    }

    #[tokio::test]
    async fn a_project_keeps_its_newest_tasks_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let (mine, other) = db
            .tx(|tx| {
                for n in 0..(MAX_TASKS as i64 + 5) {
                    record(tx, "p", &task(n))?;
                }
                record(tx, "q", &task(0))?;
                Ok::<_, CsmsError>((list(tx, "p")?, list(tx, "q")?))
            })
            .await
            .unwrap();
        assert_eq!(mine.len(), MAX_TASKS);
        assert_eq!(mine[0].task_id, "t5");
        assert_eq!(other.len(), 1);
    }
}
