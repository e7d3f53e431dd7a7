//! The secret checker's rules (CheckSecrets, and CreateSecret /
//! CreateSecretVersion / BatchImportSecrets when the project's
//! `checking_secret_strength` is on): how strong a secret value is, as pure
//! functions of the value. No storage, no I/O; a verdict never carries the
//! value or any part of it, only issue codes (docs/csms.md).
//!
//! The cloud documents only that CheckSecrets "checks the strength of the
//! imported secrets" (type fixed to `"1"`); the rules are dewstack's choice:
//! - at least 8 characters, and 3 of the 4 kinds upper case, lower case,
//!   digits, special characters: the rule the cloud's RDS applies to database
//!   passwords (what RDS-FG / GaussDB-FG secrets hold);
//! - zxcvbn (Dropbox's estimator, the `zxcvbn` crate) scores it 3 or 4 of 4:
//!   this catches leaked and common passwords, dictionary words, keyboard
//!   rows, repeats, sequences and dates;
//! - it does not contain the account's user name;
//! - it is not the same value as another secret of the same check (Huawei's
//!   SA guide counts a password shared by several accounts as weak).

use crate::csms::error::CsmsError;
use serde::Serialize;
use zeroize::Zeroizing;

/// The check type the cloud accepts ("The value is fixed to 1").
pub const CHECK_TYPE: &str = "1";
/// Secrets one CheckSecrets call covers (dewstack's choice).
pub const MAX_CHECKED: usize = 50;
const MIN_CHARS: usize = 8;
const MIN_CLASSES: usize = 3;
const MIN_SCORE: u8 = 3;
/// zxcvbn's cost grows with the length; a password is judged on its first
/// 100 characters, a length zxcvbn's own authors treat as its useful bound
/// (dewstack's choice).
const ASSESSED_CHARS: usize = 100;

/// Why a value is weak. Codes are dewstack's own.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Issue {
    #[serde(rename = "TOO_SHORT")]
    TooShort,
    #[serde(rename = "FEW_CHARACTER_TYPES")]
    FewCharacterTypes,
    #[serde(rename = "COMMON_PASSWORD")]
    CommonPassword,
    #[serde(rename = "EASY_TO_GUESS")]
    EasyToGuess,
    #[serde(rename = "CONTAINS_USERNAME")]
    ContainsUsername,
    #[serde(rename = "REUSED")]
    Reused,
}

impl Issue {
    pub fn as_str(self) -> &'static str {
        match self {
            Issue::TooShort => "TOO_SHORT",
            Issue::FewCharacterTypes => "FEW_CHARACTER_TYPES",
            Issue::CommonPassword => "COMMON_PASSWORD",
            Issue::EasyToGuess => "EASY_TO_GUESS",
            Issue::ContainsUsername => "CONTAINS_USERNAME",
            Issue::Reused => "REUSED",
        }
    }
}

/// How one value fares. `score` is zxcvbn's 0–4 of its weakest password.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub strong: bool,
    pub score: u8,
    pub issues: Vec<Issue>,
}

/// The passwords a value holds, with the user name they belong to. A JSON
/// object (what RDS-FG and most database secrets hold) is judged on its
/// password fields, a key containing `password`, `passwd` or `pwd`; any
/// other text, or an object without such fields, is one password.
fn passwords(text: &str) -> (Vec<Zeroizing<String>>, Option<String>) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return (vec![Zeroizing::new(text.to_owned())], None);
    };
    let user = ["username", "user_name", "user", "account"]
        .iter()
        .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
        .map(str::to_owned);
    let found: Vec<Zeroizing<String>> = map
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            ["password", "passwd", "pwd"].iter().any(|p| k.contains(p))
        })
        .filter_map(|(_, v)| v.as_str().map(|s| Zeroizing::new(s.to_owned())))
        .collect();
    if found.is_empty() {
        return (vec![Zeroizing::new(text.to_owned())], None);
    }
    (found, user)
}

fn classes(password: &str) -> usize {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    [
        has(char::is_ascii_uppercase),
        has(char::is_ascii_lowercase),
        has(char::is_ascii_digit),
        has(|c| !c.is_alphanumeric() && !c.is_whitespace()),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

fn assess_password(password: &str, user: Option<&str>, issues: &mut Vec<Issue>) -> u8 {
    if password.chars().count() < MIN_CHARS {
        issues.push(Issue::TooShort);
    }
    if classes(password) < MIN_CLASSES {
        issues.push(Issue::FewCharacterTypes);
    }
    let user = user.filter(|u| u.chars().count() >= 3);
    if let Some(u) = user {
        if password.to_lowercase().contains(&u.to_lowercase()) {
            issues.push(Issue::ContainsUsername);
        }
    }
    let head: Zeroizing<String> = Zeroizing::new(password.chars().take(ASSESSED_CHARS).collect());
    let inputs: Vec<&str> = user.into_iter().collect();
    let entropy = zxcvbn::zxcvbn(&head, &inputs);
    let score = u8::from(entropy.score());
    if score < MIN_SCORE {
        use zxcvbn::feedback::Warning::*;
        let common = entropy
            .feedback()
            .and_then(|f| f.warning())
            .is_some_and(|w| {
                matches!(
                    w,
                    ThisIsATop10Password
                        | ThisIsATop100Password
                        | ThisIsACommonPassword
                        | ThisIsSimilarToACommonlyUsedPassword
                )
            });
        issues.push(if common {
            Issue::CommonPassword
        } else {
            Issue::EasyToGuess
        });
    }
    score
}

/// The verdict on one text value. Binary values are not passwords and are
/// not judged (`None`; dewstack's choice).
pub fn assess(value: &[u8], binary: bool) -> Option<Verdict> {
    if binary {
        return None;
    }
    let text = Zeroizing::new(String::from_utf8_lossy(value).into_owned());
    let (found, user) = passwords(&text);
    let mut issues = Vec::new();
    let mut score = 4;
    for p in &found {
        score = score.min(assess_password(p, user.as_deref(), &mut issues));
    }
    issues.sort();
    issues.dedup();
    Some(Verdict {
        strong: issues.is_empty(),
        score,
        issues,
    })
}

/// Marks `REUSED` every verdict whose value equals another's in the same
/// check. Values are compared here and nowhere kept.
pub fn mark_reused(values: &[&[u8]], verdicts: &mut [Option<Verdict>]) {
    for i in 0..values.len() {
        let shared = (0..values.len()).any(|j| j != i && values[j] == values[i]);
        if let (true, Some(Some(v))) = (shared, verdicts.get_mut(i)) {
            v.issues.push(Issue::Reused);
            v.issues.sort();
            v.strong = false;
        }
    }
}

/// CreateSecret and CreateSecretVersion with `checking_secret_strength` on:
/// a weak text value is refused, naming its issue codes (never the value).
pub fn enforce(value: &[u8], binary: bool) -> Result<(), CsmsError> {
    match assess(value, binary) {
        Some(v) if !v.strong => Err(CsmsError::WeakSecret(
            v.issues
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn issues(v: &str) -> Vec<Issue> {
        assess(v.as_bytes(), false).unwrap().issues
    }

    #[test]
    fn a_long_random_mixed_value_is_strong() {
        let v = assess(b"Vq7#rT9!mK2$xLp4", false).unwrap();
        assert!(v.strong, "{v:?}");
        assert!(v.score >= 3);
        assert!(v.issues.is_empty());
    }

    #[test]
    fn each_rule_has_its_issue() {
        assert!(issues("Ab1!x").contains(&Issue::TooShort));
        assert!(issues("correcthorsebatterystaple").contains(&Issue::FewCharacterTypes));
        assert!(issues("password").contains(&Issue::CommonPassword));
        assert!(issues("P@ssw0rd").contains(&Issue::CommonPassword));
        assert!(!assess(b"Password1!", false).unwrap().strong);
        // Passes length and types, but is a keyboard row.
        assert!(!assess(b"Qwerty123!", false).unwrap().strong);
    }

    #[test]
    fn json_values_are_judged_on_their_password_fields() {
        let strong = br#"{"username":"app","password":"Vq7#rT9!mK2$xLp4","host":"db"}"#;
        assert!(assess(strong, false).unwrap().strong);
        let weak = br#"{"username":"app","password":"123456"}"#;
        let v = assess(weak, false).unwrap();
        assert!(!v.strong);
        assert!(v.issues.contains(&Issue::TooShort));
        let with_user = br#"{"username":"dbadmin","db_pwd":"Xdbadmin#2024!"}"#;
        assert!(issues(std::str::from_utf8(with_user).unwrap()).contains(&Issue::ContainsUsername));
        // An object without password fields is judged whole.
        assert!(assess(br#"{"token":"a"}"#, false)
            .unwrap()
            .issues
            .contains(&Issue::FewCharacterTypes));
    }

    #[test]
    fn binary_values_are_not_judged() {
        assert_eq!(assess(&[0, 1, 2], true), None);
        assert!(enforce(b"x", true).is_ok());
    }

    #[test]
    fn long_values_are_bounded_and_still_judged() {
        let weak = "a".repeat(32 * 1024);
        let v = assess(weak.as_bytes(), false).unwrap();
        assert!(!v.strong);
        let mut strong = String::from("Vq7#rT9!mK2$xLp4");
        strong.push_str(&"Zx9!".repeat(4000));
        assert!(assess(strong.as_bytes(), false).unwrap().score <= 4);
    }

    #[test]
    fn equal_values_in_one_check_are_reused() {
        let a: &[u8] = b"Vq7#rT9!mK2$xLp4";
        let b: &[u8] = b"Hn3&wS8?jD5%zQc1";
        let values = [a, b, a];
        let mut verdicts: Vec<_> = values.iter().map(|v| assess(v, false)).collect();
        mark_reused(&values, &mut verdicts);
        assert!(!verdicts[0].as_ref().unwrap().strong);
        assert!(verdicts[1].as_ref().unwrap().strong);
        assert_eq!(verdicts[2].as_ref().unwrap().issues, vec![Issue::Reused]);
    }

    #[test]
    fn a_refusal_names_issues_never_the_value() {
        let e = enforce(b"hunter2hunter2", false).unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("FEW_CHARACTER_TYPES"), "{msg}");
        assert!(enforce(b"Vq7#rT9!mK2$xLp4", false).is_ok());
    }
}
