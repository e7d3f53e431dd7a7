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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::common::tags::batch;
    use crate::common::tags::rules::{TagAction, TagRuleError};

    /// A dialect with every refusal distinct, to see which rule answered.
    #[derive(Debug, PartialEq)]
    enum E {
        Rule(TagRuleError),
        Action,
        Duplicate,
        TooMany,
        Matches,
        Limit,
    }
    impl From<TagRuleError> for E {
        fn from(e: TagRuleError) -> Self {
            E::Rule(e)
        }
    }
    impl TagDialect for E {
        const DEFAULT_LIMIT: usize = 2;
        const MAX_MATCH_CHARS: Option<usize> = Some(3);
        fn invalid_action() -> Self {
            E::Action
        }
        fn value_required() -> Option<Self> {
            None
        }
        fn tag_not_found() -> Self {
            E::Action
        }
        fn duplicate_key() -> Option<Self> {
            Some(E::Duplicate)
        }
        fn too_many_conditions() -> Option<Self> {
            Some(E::TooMany)
        }
        fn invalid_matches() -> Self {
            E::Matches
        }
        fn invalid_limit() -> Self {
            E::Limit
        }
        fn invalid_offset() -> Self {
            E::Limit
        }
    }

    fn cond(key: &str, values: &[&str]) -> TagFilter {
        TagFilter {
            key: Some(key.into()),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn resource(id: &str, tags: &[(&str, &str)]) -> Resource<()> {
        Resource {
            id: id.into(),
            name: format!("name-{id}"),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            record: (),
        }
    }

    fn parse(raw: RawQuery) -> Result<Query, E> {
        Query::parse::<E>(raw)
    }

    #[test]
    fn refusals_come_in_order() {
        let raw = |action: &str| RawQuery {
            action: Some(action.into()),
            tags: Some(vec![cond("a", &[]), cond("a", &[])]),
            limit: Some("0".into()),
            ..RawQuery::default()
        };
        assert_eq!(parse(raw("nope")).err(), Some(E::Action));
        assert_eq!(parse(raw("filter")).err(), Some(E::Duplicate));
        let many = RawQuery {
            action: Some("count".into()),
            tags_any: Some((0..11).map(|i| cond(&format!("k{i}"), &[])).collect()),
            ..RawQuery::default()
        };
        assert_eq!(parse(many).err(), Some(E::TooMany));
        let long_name = RawQuery {
            action: Some("filter".into()),
            matches: vec![(Some("resource_name".into()), Some("abcd".into()))],
            ..RawQuery::default()
        };
        assert_eq!(parse(long_name).err(), Some(E::Matches));
        let by_id = RawQuery {
            action: Some("filter".into()),
            matches: vec![(Some("resource_id".into()), Some("x".into()))],
            ..RawQuery::default()
        };
        assert_eq!(
            parse(by_id).err(),
            Some(E::Matches),
            "ids only where allowed"
        );
        let bad_limit = RawQuery {
            action: Some("filter".into()),
            limit: Some("1001".into()),
            ..RawQuery::default()
        };
        assert_eq!(parse(bad_limit).err(), Some(E::Limit));
    }

    #[test]
    fn filters_count_and_pages() {
        let all = || {
            vec![
                resource("3", &[("env", "prod")]),
                resource("1", &[("env", "dev"), ("team", "x")]),
                resource("2", &[]),
            ]
        };
        let q = parse(RawQuery {
            action: Some("filter".into()),
            tags: Some(vec![cond("env", &[])]),
            not_tags_any: Some(vec![cond("team", &["x"])]),
            ..RawQuery::default()
        })
        .unwrap();
        let found = q.select(all(), false);
        assert_eq!(found.total_count, 1);
        assert_eq!(found.page.unwrap()[0].id, "3");
        let q = parse(RawQuery {
            action: Some("filter".into()),
            offset: Some("1".into()),
            ..RawQuery::default()
        })
        .unwrap();
        let ids: Vec<String> = q
            .select(all(), true)
            .page
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            ids,
            ["2", "3"],
            "sorted by id, default limit 2, from offset 1"
        );
        let q = parse(RawQuery {
            action: Some("count".into()),
            without_any_tag: true,
            matches: vec![(Some("resource_name".into()), Some("-2".into()))],
            ..RawQuery::default()
        })
        .unwrap();
        let found = q.select(all(), false);
        assert_eq!((found.total_count, found.page.is_none()), (1, true));
    }

    #[test]
    fn batches_check_action_then_duplicates_then_rules() {
        let items = |keys: &[&str]| -> Vec<batch::RawItem> {
            keys.iter().map(|k| (Some(k.to_string()), None)).collect()
        };
        assert_eq!(
            batch::parse::<E>(Some("x"), items(&["a", "a"])).err(),
            Some(E::Action)
        );
        assert_eq!(
            batch::parse::<E>(Some("create"), items(&["a", "a"])).err(),
            Some(E::Duplicate)
        );
        assert_eq!(
            batch::parse::<E>(Some("delete"), items(&[])).err(),
            Some(E::Rule(TagRuleError::EmptyList))
        );
        match batch::parse::<E>(Some("create"), items(&["a"])).unwrap() {
            TagAction::Create(tags) => assert_eq!(tags[0].1.clone().into_string(), ""),
            TagAction::Delete(_) => panic!("a create batch"),
        }
    }

    #[test]
    fn project_tags_are_distinct_and_ordered() {
        let a = resource("1", &[("k", "b"), ("j", "x")]);
        let b = resource("2", &[("k", "a"), ("k2", "b")]);
        let c = resource("3", &[("k", "b")]);
        let all = project_tags([&a.tags, &b.tags, &c.tags]);
        assert_eq!(
            all,
            vec![
                ("j".to_string(), vec!["x".to_string()]),
                ("k".to_string(), vec!["a".to_string(), "b".to_string()]),
                ("k2".to_string(), vec!["b".to_string()]),
            ]
        );
    }
}
