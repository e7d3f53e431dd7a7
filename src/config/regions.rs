//! The regions dewstack serves: `region` (flag, `DEWSTACK_REGION` or file;
//! default cn-north-4) first, then the file's `regions = [...]`. A project
//! belongs to the region its name says (`cn-north-4`, or a sub-project
//! `cn-north-4_team`), as in the cloud; ListSupportRegions lists these, and
//! only these can hold replicas of multi-region keys (docs/kms-multi-region.md).

/// dewstack's choice: the cloud offers multi-region keys in a handful of
/// regions; more than this many in one config is refused.
pub const MAX_REGIONS: usize = 32;

/// The served regions, the default one first, each once. `regions` may repeat
/// `primary` (it is then not listed twice).
pub fn resolve(primary: String, regions: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = vec![primary];
    for r in regions {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    if out.len() > MAX_REGIONS {
        anyhow::bail!("at most {MAX_REGIONS} regions may be served");
    }
    for r in &out {
        check_name(r)?;
    }
    Ok(out)
}

/// A region name as the cloud spells them (`cn-north-4`, `ap-southeast-1`):
/// lower-case letters, digits and `-`, starting with a letter, at most 64.
/// An `_` would make project names ambiguous: it starts a sub-project's suffix.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        anyhow::bail!(
            "region {name:?}: a region name is 1-64 lower-case letters, digits and '-', starting with a letter"
        );
    }
    Ok(())
}

/// The region a project named `project_name` belongs to: the name up to the
/// first `_` (the cloud names sub-projects `region_suffix`).
pub fn region_of_project(project_name: &str) -> &str {
    project_name.split('_').next().unwrap_or(project_name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_region_comes_first_and_once() {
        let r = resolve(
            "cn-north-4".into(),
            &["cn-south-1".into(), "cn-north-4".into()],
        );
        assert_eq!(r.unwrap(), ["cn-north-4", "cn-south-1"]);
        assert_eq!(resolve("cn-north-4".into(), &[]).unwrap(), ["cn-north-4"]);
    }

    #[test]
    fn bad_names_and_too_many_are_refused() {
        for bad in ["", "CN-north-4", "cn_north", "4-cn", "cn north"] {
            assert!(
                resolve("cn-north-4".into(), &[bad.into()]).is_err(),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..MAX_REGIONS).map(|i| format!("r-{i}")).collect();
        assert!(resolve("cn-north-4".into(), &many).is_err());
        assert!(resolve("cn-north-4".into(), &many[1..]).is_ok());
    }

    #[test]
    fn a_sub_project_belongs_to_the_region_its_name_starts_with() {
        assert_eq!(region_of_project("cn-north-4"), "cn-north-4");
        assert_eq!(region_of_project("cn-south-1_team_a"), "cn-south-1");
        assert_eq!(region_of_project(""), "");
    }
}
