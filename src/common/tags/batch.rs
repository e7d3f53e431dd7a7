//! Create/delete batches as the SDKs send them:
//! `{"action": "create" | "delete", "tags": [{"key": .., "value": ..}]}`.

use super::dialect::TagDialect;
use super::rules::{self, TagAction, TagKey, TagValue};
use std::collections::BTreeSet;

/// One `{"key", "value"}` item as sent; a missing key is "" (which the key
/// rule then refuses).
pub type RawItem = (Option<String>, Option<String>);

/// Parses a whole batch. The action is checked first, then (where the
/// service refuses them) duplicate keys, then every key and value.
pub fn parse<E: TagDialect>(
    action: Option<&str>,
    items: impl IntoIterator<Item = RawItem>,
) -> Result<TagAction, E> {
    let creating = match action {
        Some("create") => true,
        Some("delete") => false,
        _ => return Err(E::invalid_action()),
    };
    let items = keyed::<E>(items)?;
    if creating {
        Ok(TagAction::Create(creates::<E>(&items)?))
    } else {
        Ok(TagAction::Delete(rules::parse_items(&items)?))
    }
}

/// The items as (key, value), refusing a key given twice where the service does.
pub fn keyed<E: TagDialect>(
    items: impl IntoIterator<Item = RawItem>,
) -> Result<Vec<(String, Option<String>)>, E> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (key, value) in items {
        let key = key.unwrap_or_default();
        if let Some(duplicate) = E::duplicate_key() {
            if !seen.insert(key.clone()) {
                return Err(duplicate);
            }
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Tags to create: every key and value valid, then each value present (or
/// "" where the service allows a missing value).
pub fn creates<E: TagDialect>(
    items: &[(String, Option<String>)],
) -> Result<Vec<(TagKey, TagValue)>, E> {
    rules::parse_items(items)?
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => Ok((k, v)),
            None => match E::value_required() {
                Some(refusal) => Err(refusal),
                None => Ok((k, TagValue::parse("")?)),
            },
        })
        .collect()
}
