//! Publishing a city: what `citydesk city publish` changes in a deployment,
//! decided from the city's folder and what the deployment holds now. Pure:
//! the adapter reads the deployment's state, asks for the plan, prints it
//! (`--dry-run`) or carries it out, so a second publish plans nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::catalogue::CatalogueDocument;
use crate::ids::DepartmentCode;

/// What the deployment holds for one city now.
#[derive(Debug, Clone, Default)]
pub struct PublishedState {
    /// The catalogue published last, if any.
    pub catalogue: Option<CatalogueDocument>,
    /// Per department of the new catalogue, of the old one, or with a queue
    /// in the deployment (one that left earlier and still holds work): its
    /// delivery as it is.
    pub departments: BTreeMap<DepartmentCode, DepartmentState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentState {
    /// Its queue's name (without the deployment's prefix).
    pub queue_name: String,
    /// Its queue and dead-letter queue exist.
    pub queue: bool,
    /// The alarms on them exist.
    pub alarms: bool,
    /// How many keys it has that are not revoked.
    pub active_keys: usize,
    /// How many open requests it holds.
    pub open_work: usize,
}

/// One change a publication makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The catalogue document is new or differs from the published one.
    WriteCatalogue(CatalogueDiff),
    /// A department's queue and dead-letter queue (tagged), and their alarms.
    CreateDelivery {
        department: DepartmentCode,
        queue: String,
        alarms_only: bool,
    },
    /// A department without an active key gets its first one (shown once).
    IssueFirstKey { department: DepartmentCode },
    /// A department left the catalogue while it still holds open requests:
    /// its queue, alarms and keys stay until they are closed.
    KeepRetiringDepartment {
        department: DepartmentCode,
        open_work: usize,
    },
    /// A department that left the catalogue holds nothing more: its queue,
    /// dead-letter queue and alarms are deleted and its keys revoked.
    RemoveDepartment {
        department: DepartmentCode,
        queue: String,
    },
}

/// What differs between the published catalogue and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueDiff {
    pub first_publication: bool,
    pub services_added: Vec<String>,
    pub services_removed: Vec<String>,
    pub services_changed: Vec<String>,
    pub departments_added: Vec<String>,
    pub departments_removed: Vec<String>,
    pub calendar_changed: bool,
    pub addresses: (usize, usize),
    pub other_settings_changed: bool,
}

/// The changes that make the deployment hold `next`, in the order they run.
pub fn plan_publication(next: &CatalogueDocument, state: &PublishedState) -> Vec<Change> {
    let mut changes = Vec::new();
    if !state.catalogue.as_ref().is_some_and(|now| same(now, next)) {
        changes.push(Change::WriteCatalogue(diff(state.catalogue.as_ref(), next)));
    }
    let unknown = DepartmentState::default();
    for department in &next.departments {
        let now = state.departments.get(&department.code).unwrap_or(&unknown);
        if !now.queue || !now.alarms {
            changes.push(Change::CreateDelivery {
                department: department.code.clone(),
                queue: department.queue.clone(),
                alarms_only: now.queue,
            });
        }
        if now.active_keys == 0 {
            changes.push(Change::IssueFirstKey {
                department: department.code.clone(),
            });
        }
    }
    let staying: BTreeSet<&DepartmentCode> = next.departments.iter().map(|d| &d.code).collect();
    for (department, now) in state
        .departments
        .iter()
        .filter(|(code, _)| !staying.contains(code))
    {
        if now.open_work > 0 {
            changes.push(Change::KeepRetiringDepartment {
                department: department.clone(),
                open_work: now.open_work,
            });
        } else if now.queue || now.alarms || now.active_keys > 0 {
            changes.push(Change::RemoveDepartment {
                department: department.clone(),
                queue: now.queue_name.clone(),
            });
        }
    }
    changes
}

/// Equal as published (the document has no `PartialEq`: its GeoJSON is JSON).
fn same(a: &CatalogueDocument, b: &CatalogueDocument) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn diff(before: Option<&CatalogueDocument>, after: &CatalogueDocument) -> CatalogueDiff {
    let Some(before) = before else {
        return CatalogueDiff {
            first_publication: true,
            services_added: after.services.iter().map(|s| s.code.to_string()).collect(),
            departments_added: after
                .departments
                .iter()
                .map(|d| d.code.to_string())
                .collect(),
            addresses: (0, after.addresses.len()),
            calendar_changed: after.city.calendar.is_some(),
            ..CatalogueDiff::default()
        };
    };
    let services = |c: &CatalogueDocument| {
        c.services
            .iter()
            .map(|s| (s.code.to_string(), s.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (old, new) = (services(before), services(after));
    let departments = |c: &CatalogueDocument| {
        c.departments
            .iter()
            .map(|d| d.code.to_string())
            .collect::<BTreeSet<_>>()
    };
    let (old_departments, new_departments) = (departments(before), departments(after));
    let mut other_before = before.clone();
    let mut other_after = after.clone();
    for doc in [&mut other_before, &mut other_after] {
        doc.services.clear();
        doc.departments.clear();
        doc.addresses.clear();
        doc.city.calendar = None;
    }
    CatalogueDiff {
        first_publication: false,
        services_added: new
            .keys()
            .filter(|k| !old.contains_key(*k))
            .cloned()
            .collect(),
        services_removed: old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect(),
        services_changed: new
            .iter()
            .filter(|(k, s)| old.get(*k).is_some_and(|o| o != *s))
            .map(|(k, _)| k.clone())
            .collect(),
        departments_added: new_departments
            .difference(&old_departments)
            .cloned()
            .collect(),
        departments_removed: old_departments
            .difference(&new_departments)
            .cloned()
            .collect(),
        calendar_changed: before.city.calendar != after.city.calendar,
        addresses: (before.addresses.len(), after.addresses.len()),
        other_settings_changed: !same(&other_before, &other_after),
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::WriteCatalogue(diff) => write!(f, "catalogue: {diff}"),
            Change::CreateDelivery {
                department,
                queue,
                alarms_only: false,
            } => write!(
                f,
                "department {department}: create queue {queue} with its dead-letter queue and alarms"
            ),
            Change::CreateDelivery {
                department,
                alarms_only: true,
                ..
            } => write!(
                f,
                "department {department}: add the missing alarms on its queues"
            ),
            Change::IssueFirstKey { department } => write!(
                f,
                "department {department}: issue its first API key (shown once)"
            ),
            Change::KeepRetiringDepartment {
                department,
                open_work,
            } => write!(
                f,
                "department {department}: no longer in the catalogue, so nothing new is routed to it; its {open_work} open request(s) stay with it, and its queue, alarms and keys stay until they are closed (publish again then to remove them)"
            ),
            Change::RemoveDepartment { department, queue } => write!(
                f,
                "department {department}: no longer in the catalogue and holds no open request: delete queue {queue}, its dead-letter queue and alarms, revoke its keys"
            ),
        }
    }
}

impl fmt::Display for CatalogueDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.first_publication {
            parts.push("first publication".to_owned());
        }
        for (label, list) in [
            ("services added", &self.services_added),
            ("services removed", &self.services_removed),
            ("services changed", &self.services_changed),
            ("departments added", &self.departments_added),
            ("departments removed", &self.departments_removed),
        ] {
            if !list.is_empty() {
                parts.push(format!("{label}: {}", list.join(", ")));
            }
        }
        if self.calendar_changed {
            parts.push("calendar changed".to_owned());
        }
        if self.addresses.0 != self.addresses.1 {
            parts.push(format!(
                "address list {} -> {} entries",
                self.addresses.0, self.addresses.1
            ));
        }
        if self.other_settings_changed {
            parts.push("city, district or routing settings changed".to_owned());
        }
        if parts.is_empty() {
            parts.push("content reordered".to_owned());
        }
        write!(f, "write ({})", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn demo() -> CatalogueDocument {
        CatalogueDocument::from_sources(
            include_str!("../../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../../infra/demo-city/districts.geojson"),
        )
        .unwrap()
    }

    /// The state after `document` was published in full.
    fn published(document: &CatalogueDocument) -> PublishedState {
        PublishedState {
            catalogue: Some(document.clone()),
            departments: document
                .departments
                .iter()
                .map(|d| {
                    (
                        d.code.clone(),
                        DepartmentState {
                            queue_name: d.queue.clone(),
                            queue: true,
                            alarms: true,
                            active_keys: 1,
                            open_work: 0,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_first_publication_creates_everything_and_a_second_nothing() {
        let city = demo();
        let first = plan_publication(&city, &PublishedState::default());
        assert!(matches!(&first[0], Change::WriteCatalogue(d) if d.first_publication));
        let deliveries = first
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Change::CreateDelivery {
                        alarms_only: false,
                        ..
                    }
                )
            })
            .count();
        let keys = first
            .iter()
            .filter(|c| matches!(c, Change::IssueFirstKey { .. }))
            .count();
        assert_eq!(
            (deliveries, keys),
            (city.departments.len(), city.departments.len())
        );
        assert!(plan_publication(&city, &published(&city)).is_empty());
    }

    #[test]
    fn a_removed_department_with_open_work_is_kept_and_without_it_removed() {
        let before = demo();
        let mut after = before.clone();
        let gone = after.departments.pop().unwrap();
        // Services of the removed department move elsewhere.
        let stays = after.departments[0].code.clone();
        for s in &mut after.services {
            if s.department == gone.code {
                s.department = stays.clone();
            }
            s.district_departments.retain(|o| o.department != gone.code);
        }
        let mut state = published(&before);
        state.departments.get_mut(&gone.code).unwrap().open_work = 3;
        let plan = plan_publication(&after, &state);
        assert!(
            plan.contains(&Change::KeepRetiringDepartment {
                department: gone.code.clone(),
                open_work: 3
            }),
            "{plan:?}"
        );
        assert!(
            plan[0].to_string().contains("departments removed"),
            "{}",
            plan[0]
        );
        state.departments.get_mut(&gone.code).unwrap().open_work = 0;
        // The smaller catalogue is published; the department still has a
        // queue in the deployment, so the next publication still sees it.
        state.catalogue = Some(after.clone());
        let plan = plan_publication(&after, &state);
        assert!(
            plan.contains(&Change::RemoveDepartment {
                department: gone.code.clone(),
                queue: gone.queue.clone()
            }),
            "{plan:?}"
        );
    }

    #[test]
    fn missing_alarms_and_keys_are_made_good() {
        let city = demo();
        let mut state = published(&city);
        let first = city.departments[0].code.clone();
        let dept = state.departments.get_mut(&first).unwrap();
        dept.alarms = false;
        dept.active_keys = 0;
        assert_eq!(
            plan_publication(&city, &state),
            vec![
                Change::CreateDelivery {
                    department: first.clone(),
                    queue: city.departments[0].queue.clone(),
                    alarms_only: true
                },
                Change::IssueFirstKey { department: first },
            ]
        );
    }
}
