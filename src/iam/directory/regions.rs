//! Which region each project is in. As in the cloud, a project is named after
//! its region (`cn-north-4`, or a sub-project `cn-north-4_team`); the served
//! regions come from the config (`config/regions.rs`).

use super::{Directory, Domain, Project};
use crate::config::regions::region_of_project;
use sha2::{Digest, Sha256};

impl Directory {
    /// Serves `regions` (the default one first, the one `build` named the
    /// root project after). The root domain gets one project in each further
    /// region, as every cloud account has one per region; its id is derived
    /// from the domain and the region (dewstack's choice), so it is the same
    /// on every start and every node without being stored.
    pub fn with_regions(mut self, regions: &[String]) -> anyhow::Result<Self> {
        let Some(first) = regions.first() else {
            return Ok(self);
        };
        if *first != self.regions[0] {
            anyhow::bail!("the default region {first} is not the root project's region");
        }
        for region in &regions[1..] {
            let Some(root) = self.domains.first() else {
                break;
            };
            if self.project_in_region(&root.id, region).is_some() {
                continue;
            }
            let id = derived_project_id(&root.id, region);
            if self.project(&id).is_some() {
                anyhow::bail!("project {id} is declared twice");
            }
            if let Some(root) = self.domains.first_mut() {
                root.projects.push(Project {
                    id,
                    name: region.clone(),
                });
            }
        }
        self.regions = regions.to_vec();
        Ok(self)
    }

    /// The served regions, the default first.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The region of project `id`: the one its name says if dewstack serves
    /// it, else the default region (a project named otherwise, as configs
    /// written before regions existed may have, stays in the one region
    /// dewstack then served). `None` for an unknown project.
    pub fn region_of(&self, project_id: &str) -> Option<&str> {
        let (_, p) = self.project(project_id)?;
        Some(self.served(region_of_project(&p.name)))
    }

    fn served<'a>(&'a self, region: &'a str) -> &'a str {
        match self.regions.iter().find(|r| *r == region) {
            Some(r) => r,
            None => &self.regions[0],
        }
    }

    /// The domain's main project of `region` (named exactly after it).
    pub fn project_in_region(&self, domain_id: &str, region: &str) -> Option<&Project> {
        self.domain(domain_id)?
            .projects
            .iter()
            .find(|p| p.name == region)
    }

    /// The project `project_id` if it belongs to `domain` and is in `region`.
    pub fn project_of_domain_in<'a>(
        &'a self,
        domain: &'a Domain,
        project_id: &str,
        region: &str,
    ) -> Option<&'a Project> {
        let p = domain.projects.iter().find(|p| p.id == project_id)?;
        (self.region_of(&p.id) == Some(region)).then_some(p)
    }
}

fn derived_project_id(domain_id: &str, region: &str) -> String {
    let digest = Sha256::digest(format!("{domain_id}/project/{region}").as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::config::{DomainConfig, ProjectConfig};
    use crate::iam::directory::{Directory, RootIdentity};

    fn root() -> RootIdentity {
        RootIdentity {
            domain_id: "d0".into(),
            domain_name: "dewstack".into(),
            project_id: "p0".into(),
            user_name: "admin".into(),
            user_id: "u0".into(),
            password: "pw".into(),
            access_key: "AK0".into(),
            secret_key: "SK0".into(),
        }
    }

    fn tenant() -> DomainConfig {
        let project = |id: &str, name: &str| ProjectConfig {
            id: id.into(),
            name: name.into(),
        };
        DomainConfig {
            id: "d1".into(),
            name: "acme".into(),
            projects: vec![
                project("p1", "cn-north-4"),
                project("p2", "cn-south-1_team"),
                project("p3", "lab"),
            ],
            users: vec![],
            access_keys: vec![],
        }
    }

    #[test]
    fn projects_are_in_the_region_their_name_says() {
        let regions = ["cn-north-4".to_owned(), "cn-south-1".to_owned()];
        let dir = Directory::build(&root(), "cn-north-4", &[tenant()])
            .unwrap()
            .with_regions(&regions)
            .unwrap();
        assert_eq!(dir.regions(), regions);
        assert_eq!(dir.region_of("p1"), Some("cn-north-4"));
        assert_eq!(dir.region_of("p2"), Some("cn-south-1"));
        // Not a served region: the default one, as before regions existed.
        assert_eq!(dir.region_of("p3"), Some("cn-north-4"));
        assert_eq!(dir.region_of("nope"), None);
        let acme = dir.domain("d1").unwrap();
        assert!(dir.project_of_domain_in(acme, "p2", "cn-south-1").is_some());
        assert!(dir.project_of_domain_in(acme, "p2", "cn-north-4").is_none());
        assert!(dir.project_of_domain_in(acme, "p0", "cn-north-4").is_none());
    }

    #[test]
    fn the_root_domain_gets_a_stable_project_in_each_further_region() {
        let regions = ["cn-north-4".to_owned(), "cn-south-1".to_owned()];
        let build = || {
            Directory::build(&root(), "cn-north-4", &[])
                .unwrap()
                .with_regions(&regions)
                .unwrap()
        };
        let south = build()
            .project_in_region("d0", "cn-south-1")
            .unwrap()
            .id
            .clone();
        assert_eq!(south.len(), 32);
        assert_eq!(
            build().project_in_region("d0", "cn-south-1").unwrap().id,
            south
        );
        assert_eq!(build().region_of(&south), Some("cn-south-1"));
        assert_eq!(
            build().project_in_region("d0", "cn-north-4").unwrap().id,
            "p0"
        );
        let one = Directory::build(&root(), "cn-north-4", &[]).unwrap();
        assert_eq!(one.domain("d0").unwrap().projects.len(), 1);
        assert!(Directory::build(&root(), "cn-north-4", &[])
            .unwrap()
            .with_regions(&["cn-south-1".to_owned()])
            .is_err());
    }
}
