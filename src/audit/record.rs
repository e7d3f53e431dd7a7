//! One audit record in the shape of a Huawei Cloud CTS trace (the `Traces`
//! and `UserInfo` models of the CTS SDK), and the allow-list redaction that
//! decides what of a request or response body a record may hold.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A trace as CTS's ListTraces returns it, plus `project_id`: CTS keeps a
/// trail per project and so needs no field for it; dewstack keeps one file
/// and filters on it (dewstack's choice; the SDK ignores the extra field).
/// Its text borrows: a record is built from the call's own strings and
/// written at once, so it copies none of them (ListTraces reads owned ones).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Trace<'a> {
    pub trace_id: Text<'a>,
    pub trace_name: Text<'a>,
    /// normal (2xx/3xx), warning (4xx), incident (5xx).
    pub trace_rating: Text<'a>,
    /// Always `ApiCall`: every record is an API call.
    pub trace_type: Text<'a>,
    pub service_type: Text<'a>,
    pub resource_type: Text<'a>,
    pub resource_id: Option<Text<'a>>,
    pub resource_name: Option<Text<'a>>,
    pub source_ip: Option<Text<'a>>,
    pub user: User<'a>,
    /// The allow-listed request fields, as a JSON string (CTS's type).
    pub request: Option<String>,
    /// The allow-listed response fields, as a JSON string.
    pub response: Option<String>,
    /// The HTTP status, as a string (CTS's type).
    pub code: Text<'a>,
    pub api_version: Option<Text<'a>>,
    /// When the call arrived (ms since the epoch, dewstack's clock).
    pub time: i64,
    /// When the record was written (ms since the epoch).
    pub record_time: i64,
    pub request_id: Text<'a>,
    pub read_only: bool,
    pub project_id: Option<Text<'a>>,
}

/// A record's text: borrowed when written, owned when read back.
pub type Text<'a> = Cow<'a, str>;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct User<'a> {
    pub id: Text<'a>,
    pub name: Text<'a>,
    pub domain: Domain<'a>,
    pub access_key_id: Option<Text<'a>>,
    pub principal_id: Text<'a>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Domain<'a> {
    pub id: Text<'a>,
    pub name: Text<'a>,
}

/// A record's request or response text is at most this long; a longer one
/// is replaced by a marker rather than cut mid-JSON (dewstack's choice).
pub const MAX_BODY_CHARS: usize = 4096;

/// CTS's rating of a call by its status.
pub fn rating(status: u16) -> &'static str {
    match status {
        500.. => "incident",
        400..=499 => "warning",
        _ => "normal",
    }
}

/// What a record keeps of a JSON body: at every depth only the fields
/// whose names it may need, strings borrowed from the body unless they hold
/// escapes. An object's fields are sorted by name, each name once with its
/// last value: the order and the choice `serde_json::Value` (a `BTreeMap`)
/// made when records were built from it, so records read the same.
#[derive(Debug)]
pub enum Kept<'b> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(Cow<'b, str>),
    Array(Vec<Kept<'b>>),
    Object(Vec<(Cow<'b, str>, Kept<'b>)>),
}

impl Kept<'_> {
    fn get(&self, name: &str) -> Option<&Self> {
        let Kept::Object(fields) = self else {
            return None;
        };
        let at = fields.binary_search_by(|(k, _)| (**k).cmp(name)).ok()?;
        Some(&fields[at].1)
    }
}

/// A JSON object body with, at every depth, only the fields whose names are
/// in one of `names`: what [`redact`] and [`field`] give for it is what they
/// would give for the whole body, as long as `names` holds every name they
/// are asked for. One pass that skips the other fields without copying
/// them: the bulk of these bodies is plaintexts, ciphertexts and secret
/// values, which a record never keeps. It builds no `serde_json::Value`:
/// the map nodes and the copy of every kept string were most of what was
/// left of a record's cost (bench/README). `None` for an empty, non-JSON or
/// non-object body (which [`redact`] and [`field`] answer `None` for anyway).
pub fn parse_kept<'b>(body: &'b [u8], names: &[&[&str]]) -> Option<Kept<'b>> {
    if body.is_empty() {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Keeping(names).deserialize(&mut de).ok()?;
    de.end().ok()?;
    matches!(value, Kept::Object(_)).then_some(value)
}

#[derive(Clone, Copy)]
struct Keeping<'n>(&'n [&'n [&'n str]]);

impl Keeping<'_> {
    fn keeps(&self, name: &str) -> bool {
        self.0.iter().any(|list| list.contains(&name))
    }
}

impl<'de> DeserializeSeed<'de> for Keeping<'_> {
    type Value = Kept<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Kept<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keeping<'_> {
    type Value = Kept<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Kept<'de>, E> {
        Ok(Kept::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Kept<'de>, E> {
        Ok(Kept::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Kept<'de>, E> {
        Ok(Kept::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Kept<'de>, E> {
        // As `Value` does: a float JSON cannot hold is null.
        Ok(serde_json::Number::from_f64(v).map_or(Kept::Null, Kept::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Kept<'de>, E> {
        Ok(Kept::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Kept<'de>, E> {
        Ok(Kept::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Kept<'de>, E> {
        Ok(Kept::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Kept<'de>, E> {
        Ok(Kept::Null)
    }
    fn visit_none<E>(self) -> Result<Kept<'de>, E> {
        Ok(Kept::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Kept::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept<'de>, A::Error> {
        let mut fields = Vec::new();
        while let Some(Name(name)) = map.next_key()? {
            if self.keeps(&name) {
                fields.push((name, map.next_value_seed(self)?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        // Stable: of a repeated name, the last value comes last.
        fields.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut once: Vec<(Cow<'de, str>, Kept<'de>)> = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            match once.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => once.push((name, value)),
            }
        }
        Ok(Kept::Object(once))
    }
}

/// An object's field name, borrowed from the body unless it has escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Room for the usual redacted body, so that it is written without growing.
const REDACTED_ROOM: usize = 512;

/// The fields of `body` whose names are in `allowed`, at any depth: an
/// allowed object or array keeps only its own allowed fields, so a secret
/// can reach a record only if its field name was listed. Anything that is
/// not a JSON object is dropped whole. `None` when nothing is left.
pub fn redact(body: Option<&Kept>, allowed: &[&str]) -> Option<String> {
    let Some(Kept::Object(fields)) = body else {
        return None;
    };
    if !fields.iter().any(|(k, _)| allowed.contains(&&**k)) {
        return None;
    }
    let mut text = Vec::with_capacity(REDACTED_ROOM);
    crate::common::json::write(&mut text, &Allowed(body?, allowed)).ok()?;
    // JSON is written as UTF-8 only.
    let text = String::from_utf8(text).ok()?;
    Some(if text.len() > MAX_BODY_CHARS {
        r#"{"dewstack_truncated":true}"#.to_owned()
    } else {
        text
    })
}

/// A body written with only its allowed fields, at every depth.
struct Allowed<'a>(&'a Kept<'a>, &'a [&'a str]);

impl Serialize for Allowed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Allowed(value, allowed) = *self;
        match value {
            Kept::Object(fields) => {
                let mut out = s.serialize_map(None)?;
                for (k, v) in fields.iter().filter(|(k, _)| allowed.contains(&&**k)) {
                    out.serialize_entry(&**k, &Allowed(v, allowed))?;
                }
                out.end()
            }
            Kept::Array(items) => s.collect_seq(items.iter().map(|v| Allowed(v, allowed))),
            Kept::Str(text) => s.serialize_str(text),
            Kept::Number(n) => n.serialize(s),
            Kept::Bool(b) => s.serialize_bool(*b),
            Kept::Null => s.serialize_unit(),
        }
    }
}

/// A string field named by `path` (`a.b`) in a JSON object body.
pub fn field<'v>(body: Option<&'v Kept>, path: &str) -> Option<&'v str> {
    let mut at = body?;
    for part in path.split('.') {
        at = at.get(part)?;
    }
    match at {
        Kept::Str(text) if !text.is_empty() => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    /// The whole body as a `Value`: what `parse_kept` must agree with.
    fn parse(body: &[u8]) -> Option<Value> {
        if body.is_empty() {
            return None;
        }
        serde_json::from_slice(body).ok()
    }

    /// What a record held when it was built from the whole body as a
    /// `Value`: the reference `redact` and `field` are held to.
    fn redact_whole(body: Option<&Value>, allowed: &[&str]) -> Option<String> {
        fn keep(v: &Value, allowed: &[&str]) -> Value {
            match v {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .filter(|(k, _)| allowed.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), keep(v, allowed)))
                        .collect(),
                ),
                Value::Array(items) => {
                    Value::Array(items.iter().map(|v| keep(v, allowed)).collect())
                }
                scalar => scalar.clone(),
            }
        }
        let Some(Value::Object(map)) = body else {
            return None;
        };
        if !map.keys().any(|k| allowed.contains(&k.as_str())) {
            return None;
        }
        let text = serde_json::to_string(&keep(body?, allowed)).ok()?;
        Some(if text.len() > MAX_BODY_CHARS {
            r#"{"dewstack_truncated":true}"#.to_owned()
        } else {
            text
        })
    }

    fn field_whole<'v>(body: Option<&'v Value>, path: &str) -> Option<&'v str> {
        let mut at = body?;
        for part in path.split('.') {
            at = at.get(part)?;
        }
        at.as_str().filter(|s| !s.is_empty())
    }

    /// `parse_kept` keeping every name the test asks for.
    fn kept<'b>(body: &'b [u8], names: &[&str]) -> Option<Kept<'b>> {
        parse_kept(body, &[names])
    }

    #[test]
    fn only_listed_names_survive_at_every_depth() {
        let body = br#"{"key_id":"k1","plain_text":"TOP-SECRET","tags":[{"key":"a","value":"b","x":"SECRET2"}],
            "version":{"secret_string":"SECRET3","version_metadata":{"id":"v1"}}}"#;
        let allowed = &[
            "key_id",
            "tags",
            "key",
            "value",
            "version",
            "version_metadata",
            "id",
        ];
        let out = redact(kept(body, allowed).as_ref(), allowed).unwrap();
        for secret in [
            "TOP-SECRET",
            "SECRET2",
            "SECRET3",
            "plain_text",
            "secret_string",
        ] {
            assert!(!out.contains(secret), "{out}");
        }
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["key_id"], "k1");
        assert_eq!(back["tags"][0]["value"], "b");
        assert_eq!(back["version"]["version_metadata"]["id"], "v1");
    }

    #[test]
    fn nothing_listed_or_not_json_is_nothing() {
        let r = |body: &[u8], allowed: &[&str]| redact(kept(body, allowed).as_ref(), allowed);
        assert_eq!(r(br#"{"plain_text":"s"}"#, &["key_id"]), None);
        assert_eq!(r(b"plain secret bytes", &["key_id"]), None);
        assert_eq!(r(br#"["a"]"#, &["key_id"]), None);
        assert_eq!(r(br#"{"key_id":"k"}"#, &[]), None);
        assert_eq!(r(b"", &["key_id"]), None);
        let long = format!(r#"{{"key_id":"{}"}}"#, "k".repeat(MAX_BODY_CHARS));
        assert_eq!(
            r(long.as_bytes(), &["key_id"]).as_deref(),
            Some(r#"{"dewstack_truncated":true}"#)
        );
    }

    /// What a record takes from a body is the same through `parse_kept` as
    /// through the whole parse, for bodies with nesting, arrays, escaped and
    /// repeated names, numbers and non-objects.
    #[test]
    fn kept_parse_gives_what_the_whole_parse_gives() {
        let allowed: &[&str] = &["key_id", "tags", "key", "value", "version", "id", "n"];
        let looked_up: &[&str] = &["key_info", "secret", "name"];
        let bodies: &[&[u8]] = &[
            br#"{"key_id":"k1","plain_text":"TOP-SECRET","tags":[{"key":"a","value":"b","x":"S2"},"s",3]}"#,
            br#"{"key\u005fid":"escaped","key_id":"first","key_id":"last","n":-1.5e3,"m":{"n":2}}"#,
            br#"{"key_info":{"key_id":"k","key_state":"2"},"secret":{"name":"s","secret_string":"S3"}}"#,
            br#"{"version":{"id":null,"value":[true,false,{"key":{"id":18446744073709551615}}]}}"#,
            br#"["key_id"]"#,
            br#""just a string""#,
            br#"{"key_id":"k"} trailing"#,
            br#"{"key_id":"#,
            b"",
        ];
        for body in bodies {
            let whole = parse(body);
            let kept = parse_kept(body, &[allowed, looked_up]);
            assert_eq!(
                redact_whole(whole.as_ref(), allowed),
                redact(kept.as_ref(), allowed),
                "{}",
                String::from_utf8_lossy(body)
            );
            for path in ["key_id", "key_info.key_id", "secret.name", "name"] {
                assert_eq!(
                    field_whole(whole.as_ref(), path),
                    field(kept.as_ref(), path)
                );
            }
        }
        let kept = format!("{:?}", parse_kept(bodies[0], &[allowed]).unwrap());
        assert!(
            !kept.contains("TOP-SECRET") && !kept.contains("S2"),
            "{kept}"
        );
    }

    #[test]
    fn ratings_and_fields() {
        assert_eq!(rating(200), "normal");
        assert_eq!(rating(404), "warning");
        assert_eq!(rating(503), "incident");
        let names = &["key_info", "key_id"];
        assert_eq!(
            field(
                kept(br#"{"key_info":{"key_id":"k"}}"#, names).as_ref(),
                "key_info.key_id"
            ),
            Some("k")
        );
        assert_eq!(
            field(kept(br#"{"key_id":""}"#, names).as_ref(), "key_id"),
            None
        );
        assert_eq!(
            field(kept(br#"{"key_id":7}"#, names).as_ref(), "key_id"),
            None
        );
    }

    /// Arbitrary JSON over the few names the tests below keep.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::strategy::Strategy;
        crate::common::json::arbitrary(
            "(id|key_id|name|x|y|secret)".boxed(),
            "[a-z\\\\\"é😀\n]{0,8}".boxed(),
        )
    }

    /// An object written with some names twice and escapes in names, as a
    /// client may send it: `Value` keeps the last of a repeated name.
    fn spelled(fields: &[(String, Value)]) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let name = if k == "id" && i % 2 == 1 {
                "\\u0069d".to_owned()
            } else {
                k.clone()
            };
            out.push_str(&format!("\"{name}\":{v}"));
        }
        out.push('}');
        out
    }

    proptest::proptest! {
        /// For any object body, the kept parse redacts and looks up fields
        /// exactly as the whole parse into a `Value` did.
        #[test]
        fn kept_parse_matches_the_whole_parse_on_any_body(
            fields in proptest::collection::vec(("(id|key_id|name|x|secret)", json_value()), 0..6),
        ) {
            let body = spelled(&fields);
            let whole = parse(body.as_bytes());
            proptest::prop_assert!(whole.is_some(), "{}", body);
            for allowed in [&["id", "key_id"][..], &["id", "name", "secret", "x", "y"], &[]] {
                let kept = parse_kept(body.as_bytes(), &[allowed, &["secret", "name"]]);
                proptest::prop_assert_eq!(
                    redact_whole(whole.as_ref(), allowed),
                    redact(kept.as_ref(), allowed),
                    "{}", body
                );
                for path in ["id", "key_id", "secret.name", "secret.id"] {
                    if path.split('.').all(|p| allowed.contains(&p) || ["secret", "name"].contains(&p)) {
                        proptest::prop_assert_eq!(
                            field_whole(whole.as_ref(), path),
                            field(kept.as_ref(), path)
                        );
                    }
                }
            }
        }
    }
}
