//! What a service tells the shared tag operations about where its tags live.

use crate::store::{StoreError, Tx};
use std::collections::BTreeMap;

use super::dialect::TagDialect;

/// A resource's tags: key → value.
pub type Tags = BTreeMap<String, String>;

/// One tagged resource as the resource-instances query sees it.
pub struct Resource<R> {
    pub id: String,
    /// What `matches` on `resource_name` is compared with and the row shows.
    pub name: String,
    pub tags: Tags,
    /// Whatever else the service's row shows (a key's details, a secret).
    pub record: R,
}

/// Where one kind of resource keeps its tags. Every method runs inside the
/// caller's transaction, which may run again after a conflict.
pub trait TagStore: Clone + Send + Sync + 'static {
    type Error: TagDialect + From<StoreError> + Send + 'static;
    /// What a resource-instance row shows besides id, name and tags.
    type Record: Send + 'static;

    /// The tags of one resource (not found is the service's own error).
    fn tags_of(&self, tx: &mut dyn Tx, project: &str, id: &str) -> Result<Tags, Self::Error>;

    /// Loads one resource, checks that its tags may change, runs `change` on
    /// them and saves the resource.
    fn update(
        &self,
        tx: &mut dyn Tx,
        project: &str,
        id: &str,
        change: &mut dyn FnMut(&mut Tags) -> Result<(), Self::Error>,
    ) -> Result<(), Self::Error>;

    /// Every resource of this kind in the project.
    fn scan(
        &self,
        tx: &mut dyn Tx,
        project: &str,
    ) -> Result<Vec<Resource<Self::Record>>, Self::Error>;
}
