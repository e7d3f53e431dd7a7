//! The tag rules themselves. A tag key is 1–36 Unicode characters, a value
//! 0–43; neither may contain ASCII control characters or any of `* < > \ =`;
//! a resource has at most 20 tags. Services decide which error code each rule
//! maps to (`super::dialect`).

use std::collections::BTreeMap;

pub const MAX_KEY_CHARS: usize = 36;
pub const MAX_VALUE_CHARS: usize = 43;
/// The cloud allows 20 tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagRuleError {
    EmptyList,
    KeyLength,
    KeyChars,
    ValueLength,
    ValueChars,
    TooMany,
}

fn forbidden(c: char) -> bool {
    (c as u32) < 32 || matches!(c, '*' | '<' | '>' | '\\' | '=')
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagKey(String);

impl TagKey {
    pub fn parse(raw: &str) -> Result<Self, TagRuleError> {
        let n = raw.chars().count();
        if n == 0 || n > MAX_KEY_CHARS {
            return Err(TagRuleError::KeyLength);
        }
        if raw.chars().any(forbidden) {
            return Err(TagRuleError::KeyChars);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagValue(String);

impl TagValue {
    pub fn parse(raw: &str) -> Result<Self, TagRuleError> {
        if raw.chars().count() > MAX_VALUE_CHARS {
            return Err(TagRuleError::ValueLength);
        }
        if raw.chars().any(forbidden) {
            return Err(TagRuleError::ValueChars);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Clone)]
pub enum TagAction {
    Create(Vec<(TagKey, TagValue)>),
    Delete(Vec<(TagKey, Option<TagValue>)>),
}

/// Applies a batch to a resource's tag map. Everything is validated before
/// anything changes, so a bad tag in the middle leaves the map untouched.
pub fn apply(tags: &mut BTreeMap<String, String>, action: TagAction) -> Result<(), TagRuleError> {
    match action {
        TagAction::Create(items) => {
            let mut next = tags.clone();
            for (k, v) in items {
                next.insert(k.0, v.0);
            }
            if next.len() > MAX_TAGS_PER_RESOURCE {
                return Err(TagRuleError::TooMany);
            }
            *tags = next;
        }
        TagAction::Delete(items) => {
            for (k, v) in items {
                // A delete that names a value removes the tag only if the value matches.
                let matches = match (&v, tags.get(k.as_str())) {
                    (Some(want), Some(have)) => want.0 == *have,
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                if matches {
                    tags.remove(k.as_str());
                }
            }
        }
    }
    Ok(())
}

/// Parses a create/delete list; `values_required` is false for deletes.
pub fn parse_items(
    items: &[(String, Option<String>)],
) -> Result<Vec<(TagKey, Option<TagValue>)>, TagRuleError> {
    if items.is_empty() {
        return Err(TagRuleError::EmptyList);
    }
    items
        .iter()
        .map(|(k, v)| {
            Ok((
                TagKey::parse(k)?,
                v.as_deref().map(TagValue::parse).transpose()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_rules() {
        assert!(TagKey::parse("key1").is_ok());
        assert!(TagKey::parse(&"é".repeat(36)).is_ok());
        assert_eq!(TagKey::parse(&"k".repeat(37)), Err(TagRuleError::KeyLength));
        assert_eq!(TagKey::parse(""), Err(TagRuleError::KeyLength));
        for bad in ["a*", "a<", "a>", "a\\", "a=", "a\u{1}", "a\n"] {
            assert_eq!(TagKey::parse(bad), Err(TagRuleError::KeyChars), "{bad:?}");
        }
    }

    #[test]
    fn value_rules() {
        assert!(TagValue::parse("").is_ok());
        assert!(TagValue::parse(&"值".repeat(43)).is_ok());
        assert_eq!(
            TagValue::parse(&"v".repeat(44)),
            Err(TagRuleError::ValueLength)
        );
        assert_eq!(TagValue::parse("x=y"), Err(TagRuleError::ValueChars));
        assert_eq!(TagValue::parse("\u{1f}"), Err(TagRuleError::ValueChars));
    }

    #[test]
    fn create_overwrites_and_limits() {
        let mut tags = BTreeMap::new();
        let item = |k: &str, v: &str| (TagKey::parse(k).unwrap(), TagValue::parse(v).unwrap());
        apply(&mut tags, TagAction::Create(vec![item("a", "1")])).unwrap();
        apply(&mut tags, TagAction::Create(vec![item("a", "2")])).unwrap();
        assert_eq!(tags.get("a").map(String::as_str), Some("2"));
        let many: Vec<_> = (0..20).map(|i| item(&format!("k{i}"), "v")).collect();
        assert_eq!(
            apply(&mut tags, TagAction::Create(many)),
            Err(TagRuleError::TooMany)
        );
        assert_eq!(tags.len(), 1, "a refused batch changes nothing");
    }

    #[test]
    fn delete_respects_value() {
        let mut tags = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let del = |k: &str, v: Option<&str>| {
            (
                TagKey::parse(k).unwrap(),
                v.map(|v| TagValue::parse(v).unwrap()),
            )
        };
        apply(
            &mut tags,
            TagAction::Delete(vec![
                del("a", Some("other")),
                del("b", None),
                del("zzz", None),
            ]),
        )
        .unwrap();
        assert_eq!(tags.len(), 1);
        assert!(tags.contains_key("a"));
    }

    #[test]
    fn empty_list_is_refused() {
        assert_eq!(parse_items(&[]).err(), Some(TagRuleError::EmptyList));
    }
}
