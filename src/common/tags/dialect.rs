//! How one service speaks tags: which of its errors answers each refusal,
//! and the limits and matching rules its API reference gives. The three
//! services share every rule in `rules`; they differ only here.

use super::rules::TagRuleError;

/// Implemented by a service's error type.
pub trait TagDialect: From<TagRuleError> + Sized {
    /// `limit` when the query has none (the maximum is [`MAX_LIMIT`]).
    const DEFAULT_LIMIT: usize;
    /// Longest `resource_name` a `matches` entry may hold; `None`: no limit.
    const MAX_MATCH_CHARS: Option<usize> = None;
    /// Whether `matches` may also name `resource_id` (an exact match).
    const MATCH_BY_ID: bool = false;
    /// Whether resource instances are listed in id order (otherwise in the
    /// order the store returns them).
    const SORT_BY_ID: bool = false;

    /// A batch `action` that is not create/delete, or a query `action`
    /// that is not filter/count.
    fn invalid_action() -> Self;
    /// A tag to create that has no value; `None`: the value is "".
    fn value_required() -> Option<Self>;
    /// Deleting a single tag the resource does not have.
    fn tag_not_found() -> Self;
    /// One batch or one condition list names a key twice; `None`: allowed.
    fn duplicate_key() -> Option<Self> {
        None
    }
    /// A condition list longer than [`MAX_CONDITIONS`]; `None`: no limit.
    fn too_many_conditions() -> Option<Self> {
        None
    }
    /// A `matches` entry that is not one the service knows.
    fn invalid_matches() -> Self;
    /// A `limit` that is not a number in 1..=[`MAX_LIMIT`].
    fn invalid_limit() -> Self;
    /// An `offset` that is not a non-negative number.
    fn invalid_offset() -> Self;

    /// Whether a resource name satisfies a `resource_name` match.
    fn name_matches(name: &str, pattern: &str) -> bool {
        name.contains(pattern)
    }
}

/// Largest `limit` of a resource-instances query.
pub const MAX_LIMIT: usize = 1000;
/// Most tag conditions in one list of a resource-instances query, where the
/// service limits them at all.
pub const MAX_CONDITIONS: usize = 10;
