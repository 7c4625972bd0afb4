//! Learning from a city's history: features, the trained text classifier,
//! routes learned from who handled what, evaluation, and the model file.
//! Pure functions; the admin command (`citydesk train`/`evaluate`) and the
//! classify and route functions are the callers.

pub mod artifact;
pub mod evaluation;
pub mod features;
pub mod model_selection;
pub mod routing_table;
pub mod text_classifier;
pub mod training;

use crate::ids::JurisdictionId;

/// The models of the cities a deployment serves (a city may have none yet),
/// shared, not copied, by the classifiers built from them.
#[derive(Debug, Clone, Default)]
pub struct CityModels(Vec<std::sync::Arc<artifact::Model>>);

impl CityModels {
    pub fn new(models: Vec<artifact::Model>) -> Self {
        Self(models.into_iter().map(std::sync::Arc::new).collect())
    }

    pub fn get(&self, jurisdiction: &JurisdictionId) -> Option<&std::sync::Arc<artifact::Model>> {
        self.0
            .iter()
            .find(|m| m.jurisdiction == jurisdiction.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &std::sync::Arc<artifact::Model>> {
        self.0.iter()
    }
}
