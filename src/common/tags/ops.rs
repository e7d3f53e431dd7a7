//! The tag operations every service offers, over its `TagStore`. Each runs
//! one transaction; handlers only parse their path and map to wire types.

use super::dialect::TagDialect;
use super::query::{project_tags as collect, Instances, Query};
use super::rules::{self, TagAction, TagKey};
use super::store::{TagStore, Tags};
use crate::store::Db;

/// Applies a create/delete batch to one resource.
pub async fn change<S: TagStore>(
    db: &Db,
    store: S,
    project: &str,
    id: String,
    action: TagAction,
) -> Result<(), S::Error> {
    let project = project.to_owned();
    db.tx(move |tx| {
        // Cloned because the transaction body may run again after a conflict.
        let mut apply = |tags: &mut Tags| Ok(rules::apply(tags, action.clone())?);
        store.update(tx, &project, &id, &mut apply)
    })
    .await
}

/// Deletes one tag by key; a key the resource does not have is refused.
pub async fn remove<S: TagStore>(
    db: &Db,
    store: S,
    project: &str,
    id: String,
    key: TagKey,
) -> Result<(), S::Error> {
    let project = project.to_owned();
    db.tx(move |tx| {
        let mut remove = |tags: &mut Tags| match tags.remove(key.as_str()) {
            Some(_) => Ok(()),
            None => Err(S::Error::tag_not_found()),
        };
        store.update(tx, &project, &id, &mut remove)
    })
    .await
}

/// The tags of one resource.
pub async fn tags_of<S: TagStore>(
    db: &Db,
    store: S,
    project: &str,
    id: String,
) -> Result<Tags, S::Error> {
    let project = project.to_owned();
    db.tx(move |tx| store.tags_of(tx, &project, &id)).await
}

/// Every tag key used in the project with its distinct values.
pub async fn project_tags<S: TagStore>(
    db: &Db,
    store: S,
    project: &str,
) -> Result<Vec<(String, Vec<String>)>, S::Error> {
    let project = project.to_owned();
    let all = db.tx(move |tx| store.scan(tx, &project)).await?;
    Ok(collect(all.iter().map(|r| &r.tags)))
}

/// Answers a resource-instances query.
pub async fn resource_instances<S: TagStore>(
    db: &Db,
    store: S,
    project: &str,
    query: Query,
) -> Result<Instances<S::Record>, S::Error> {
    let project = project.to_owned();
    let all = db.tx(move |tx| store.scan(tx, &project)).await?;
    Ok(query.select(all, <S::Error as TagDialect>::SORT_BY_ID))
}

/// Tags as the `[{"key", "value"}]` list of a service's wire type.
pub fn key_values<T>(tags: &Tags, pair: impl Fn(String, String) -> T) -> Vec<T> {
    tags.iter()
        .map(|(k, v)| pair(k.clone(), v.clone()))
        .collect()
}
