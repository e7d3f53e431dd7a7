//! The resource-instances query (`POST .../resource_instances/action`):
//! `action` filter or count, tag conditions, `matches`, `limit`/`offset`.

use super::dialect::{TagDialect, MAX_CONDITIONS, MAX_LIMIT};
use super::rules::{TagKey, TagValue};
use super::store::{Resource, Tags};
use crate::common::paging;
use serde::Deserialize;

/// `{"key": .., "values": [..]}`: the key must be present with one of the
/// values (no values: any value).
#[derive(Deserialize, Default, Clone)]
pub struct TagFilter {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

/// The query as sent. Services that know only `tags` leave the other
/// condition lists empty.
#[derive(Default)]
pub struct RawQuery {
    pub action: Option<String>,
    pub tags: Option<Vec<TagFilter>>,
    pub tags_any: Option<Vec<TagFilter>>,
    pub not_tags: Option<Vec<TagFilter>>,
    pub not_tags_any: Option<Vec<TagFilter>>,
    /// `{"key": "resource_name" | "resource_id", "value": ..}` items.
    pub matches: Vec<(Option<String>, Option<String>)>,
    pub without_any_tag: bool,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// Tag conditions: each key with the values it may have (none = any).
type Conditions = Vec<(String, Vec<String>)>;

/// Which resources a query selects.
pub struct Filter {
    all_of: Conditions,
    any_of: Conditions,
    not_all_of: Conditions,
    not_any_of: Conditions,
    untagged_only: bool,
    name: Option<String>,
    id: Option<String>,
    name_matches: fn(&str, &str) -> bool,
}

pub struct Query {
    /// `count`: only the total is answered.
    pub counting: bool,
    pub filter: Filter,
    pub limit: usize,
    pub offset: usize,
}

/// The answer: how many match, and for `filter` the requested page.
pub struct Instances<R> {
    pub total_count: i64,
    pub page: Option<Vec<Resource<R>>>,
}

impl Query {
    /// Checks in the order the cloud does: action, conditions, matches,
    /// limit, offset.
    pub fn parse<E: TagDialect>(raw: RawQuery) -> Result<Self, E> {
        let counting = match raw.action.as_deref() {
            Some("filter") => false,
            Some("count") => true,
            _ => return Err(E::invalid_action()),
        };
        let all_of = conditions::<E>(raw.tags)?;
        let any_of = conditions::<E>(raw.tags_any)?;
        let not_all_of = conditions::<E>(raw.not_tags)?;
        let not_any_of = conditions::<E>(raw.not_tags_any)?;
        let (name, id) = matches::<E>(raw.matches)?;
        let limit = paging::parse_limit(raw.limit.as_deref(), E::DEFAULT_LIMIT, MAX_LIMIT)
            .map_err(|_| E::invalid_limit())?;
        let offset =
            paging::parse_offset(raw.offset.as_deref()).map_err(|_| E::invalid_offset())?;
        Ok(Self {
            counting,
            filter: Filter {
                all_of,
                any_of,
                not_all_of,
                not_any_of,
                untagged_only: raw.without_any_tag,
                name,
                id,
                name_matches: E::name_matches,
            },
            limit,
            offset,
        })
    }

    /// Filters, orders (where the service does), counts and pages.
    pub fn select<R>(&self, all: Vec<Resource<R>>, sort_by_id: bool) -> Instances<R> {
        let mut matching: Vec<Resource<R>> =
            all.into_iter().filter(|r| self.filter.accepts(r)).collect();
        if sort_by_id {
            matching.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let total_count = matching.len() as i64;
        Instances {
            total_count,
            page: (!self.counting).then(|| paging::page(matching, self.offset, self.limit).items),
        }
    }
}

fn conditions<E: TagDialect>(raw: Option<Vec<TagFilter>>) -> Result<Conditions, E> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_CONDITIONS {
        if let Some(refusal) = E::too_many_conditions() {
            return Err(refusal);
        }
    }
    let mut out: Conditions = Vec::new();
    for t in raw {
        let key = TagKey::parse(t.key.as_deref().unwrap_or_default())?;
        if out.iter().any(|(k, _)| k == key.as_str()) {
            if let Some(refusal) = E::duplicate_key() {
                return Err(refusal);
            }
        }
        let values = t.values.unwrap_or_default();
        for v in &values {
            TagValue::parse(v)?;
        }
        out.push((key.as_str().to_owned(), values));
    }
    Ok(out)
}

/// The `resource_name` and `resource_id` to match; the last of each wins.
fn matches<E: TagDialect>(
    raw: Vec<(Option<String>, Option<String>)>,
) -> Result<(Option<String>, Option<String>), E> {
    let (mut name, mut id) = (None, None);
    for (key, value) in raw {
        match (key.as_deref(), value) {
            (Some("resource_name"), Some(v))
                if E::MAX_MATCH_CHARS.is_none_or(|max| v.chars().count() <= max) =>
            {
                name = Some(v)
            }
            (Some("resource_id"), Some(v)) if E::MATCH_BY_ID => id = Some(v),
            _ => return Err(E::invalid_matches()),
        }
    }
    Ok((name, id))
}

fn holds(tags: &Tags, (key, values): &(String, Vec<String>)) -> bool {
    tags.get(key)
        .is_some_and(|v| values.is_empty() || values.contains(v))
}

impl Filter {
    fn accepts<R>(&self, r: &Resource<R>) -> bool {
        let tags = &r.tags;
        let tags_ok = if self.untagged_only {
            tags.is_empty()
        } else {
            self.all_of.iter().all(|c| holds(tags, c))
                && (self.any_of.is_empty() || self.any_of.iter().any(|c| holds(tags, c)))
                && (self.not_all_of.is_empty() || !self.not_all_of.iter().all(|c| holds(tags, c)))
                && !self.not_any_of.iter().any(|c| holds(tags, c))
        };
        let name_ok = self
            .name
            .as_deref()
            .is_none_or(|n| (self.name_matches)(&r.name, n));
        tags_ok && name_ok && self.id.as_deref().is_none_or(|i| i == r.id)
    }
}

/// Every key used in `resources` with the distinct values it has, both in order.
pub fn project_tags<'a>(
    resources: impl IntoIterator<Item = &'a Tags>,
) -> Vec<(String, Vec<String>)> {
    let mut all: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for tags in resources {
        for (k, v) in tags {
            all.entry(k.clone()).or_default().insert(v.clone());
        }
    }
    all.into_iter()
        .map(|(k, vs)| (k, vs.into_iter().collect()))
        .collect()
}
