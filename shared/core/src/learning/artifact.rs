//! The model as a versioned file (kept in S3 under `models/{city}/`): a header
//! checked before anything else, then the classifier and the learned routes.
//! A file written by another format or feature scheme is refused with a message
//! saying what to do, never half-read.

use serde::{Deserialize, Serialize};

use super::features::FEATURE_SCHEME;
use super::routing_table::LearnedRoutes;
use super::text_classifier::TextClassifier;

/// Bumped whenever the layout of [`Model`] changes.
pub const MODEL_FORMAT_VERSION: u32 = 3;
const MAGIC: [u8; 8] = *b"CDMODEL\0";

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    magic: [u8; 8],
    format_version: u32,
    feature_scheme: String,
}

/// What a city's classify and route functions load at cold start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub jurisdiction: String,
    /// e.g. `20261128T130512Z`: also the object's name, so versions never overwrite.
    pub version: String,
    /// How many examples it was trained on, from history and from the catalogue.
    pub history_examples: u64,
    pub catalogue_examples: u64,
    pub classifier: TextClassifier,
    pub routes: LearnedRoutes,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelFileError {
    #[error("this is not a citydesk model file")]
    NotAModel,
    #[error(
        "the model file has format version {found}, this code reads version {expected}: retrain it with `citydesk train` from this release"
    )]
    FormatVersion { found: u32, expected: u32 },
    #[error(
        "the model was trained with feature scheme {found:?}, this code extracts {expected:?}: retrain it with `citydesk train` from this release"
    )]
    FeatureScheme {
        found: String,
        expected: &'static str,
    },
    #[error("the model file is damaged: {0}")]
    Damaged(String),
}

impl Model {
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelFileError> {
        let header = Header {
            magic: MAGIC,
            format_version: MODEL_FORMAT_VERSION,
            feature_scheme: FEATURE_SCHEME.to_owned(),
        };
        let mut bytes =
            postcard::to_allocvec(&header).map_err(|e| ModelFileError::Damaged(e.to_string()))?;
        bytes.extend(
            postcard::to_allocvec(self).map_err(|e| ModelFileError::Damaged(e.to_string()))?,
        );
        Ok(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        if !bytes.starts_with(&MAGIC) {
            return Err(ModelFileError::NotAModel);
        }
        let (header, rest): (Header, &[u8]) =
            postcard::take_from_bytes(bytes).map_err(|_| ModelFileError::NotAModel)?;
        if header.format_version != MODEL_FORMAT_VERSION {
            return Err(ModelFileError::FormatVersion {
                found: header.format_version,
                expected: MODEL_FORMAT_VERSION,
            });
        }
        if header.feature_scheme != FEATURE_SCHEME {
            return Err(ModelFileError::FeatureScheme {
                found: header.feature_scheme,
                expected: FEATURE_SCHEME,
            });
        }
        let model: Model =
            postcard::from_bytes(rest).map_err(|e| ModelFileError::Damaged(e.to_string()))?;
        model.check()?;
        Ok(model)
    }

    /// Dimensions agree, so prediction can index without checks failing later.
    fn check(&self) -> Result<(), ModelFileError> {
        let ok = self.classifier.is_consistent()
            && self
                .routes
                .classifier()
                .is_none_or(TextClassifier::is_consistent);
        if ok {
            Ok(())
        } else {
            Err(ModelFileError::Damaged("dimensions do not agree".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::catalogue;
    use crate::learning::training::{TrainingOptions, catalogue_examples, train};

    fn model() -> Model {
        let examples = catalogue_examples(&catalogue());
        Model {
            jurisdiction: "krakow".into(),
            version: "20261128T130000Z".into(),
            history_examples: 0,
            catalogue_examples: examples.len() as u64,
            classifier: train(&examples, &TrainingOptions::default()).unwrap(),
            routes: LearnedRoutes::default(),
        }
    }

    #[test]
    fn round_trips() {
        let m = model();
        assert_eq!(Model::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
    }

    #[test]
    fn refuses_other_versions_and_foreign_files() {
        let m = model();
        let header = Header {
            magic: MAGIC,
            format_version: MODEL_FORMAT_VERSION + 1,
            feature_scheme: FEATURE_SCHEME.into(),
        };
        let mut bytes = postcard::to_allocvec(&header).unwrap();
        bytes.extend(postcard::to_allocvec(&m).unwrap());
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(
            err,
            ModelFileError::FormatVersion {
                found: 4,
                expected: 3
            }
        ));
        assert!(err.to_string().contains("citydesk train"), "{err}");

        let header = Header {
            magic: MAGIC,
            format_version: MODEL_FORMAT_VERSION,
            feature_scheme: "words-only/v0".into(),
        };
        let mut bytes = postcard::to_allocvec(&header).unwrap();
        bytes.extend(postcard::to_allocvec(&m).unwrap());
        assert!(matches!(
            Model::from_bytes(&bytes),
            Err(ModelFileError::FeatureScheme { .. })
        ));

        assert_eq!(
            Model::from_bytes(b"{\"json\":1}"),
            Err(ModelFileError::NotAModel)
        );
        let mut truncated = m.to_bytes().unwrap();
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            Model::from_bytes(&truncated),
            Err(ModelFileError::Damaged(_))
        ));
    }
}
