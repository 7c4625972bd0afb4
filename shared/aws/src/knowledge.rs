//! A city's knowledge base in the deployment: read from its folder's `kb/`
//! (one TOML file per article), checked against the catalogue, published
//! as one JSON document in the bucket, and loaded by the knowledge-base
//! function at cold start.

use std::path::Path;

use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::JurisdictionId;
use citydesk_core::knowledge::KnowledgeBase;
use citydesk_core::ports::PortError;

use crate::city_publisher::CityFolderError;
use crate::s3::S3Blobs;

/// Where a city's published knowledge base is kept.
pub fn knowledge_key(jurisdiction: &JurisdictionId) -> String {
    format!("knowledge/{jurisdiction}.json")
}

/// The articles in `dir/kb/*.toml`, checked against `catalogue`; a city
/// without a `kb/` folder has an empty knowledge base.
pub fn read_knowledge_folder(
    dir: &Path,
    catalogue: &Catalogue,
) -> Result<KnowledgeBase, CityFolderError> {
    let folder = dir.join("kb");
    let mut files = Vec::new();
    if folder.is_dir() {
        let read_err = |path: &Path, source| CityFolderError::Read {
            path: path.display().to_string(),
            source,
        };
        for entry in std::fs::read_dir(&folder).map_err(|e| read_err(&folder, e))? {
            let path = entry.map_err(|e| read_err(&folder, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
                files.push((name, text));
            }
        }
    }
    files.sort();
    KnowledgeBase::from_files(
        catalogue,
        files.iter().map(|(n, t)| (n.as_str(), t.as_str())),
    )
    .map_err(|source| CityFolderError::Knowledge {
        path: folder.display().to_string(),
        source,
    })
}

/// Makes the deployment hold `kb` (the whole document, replacing the last).
pub async fn publish_knowledge(blobs: &S3Blobs, kb: &KnowledgeBase) -> Result<String, PortError> {
    let key = knowledge_key(&kb.jurisdiction);
    let body = serde_json::to_vec(kb)
        .map_err(|e| PortError::permanent("encode knowledge base", e.to_string()))?;
    blobs.put(&key, "application/json", body).await?;
    Ok(key)
}

/// The published knowledge base of `jurisdiction`; an empty one when none
/// was published yet.
pub async fn load_knowledge(
    blobs: &S3Blobs,
    jurisdiction: &JurisdictionId,
) -> Result<KnowledgeBase, PortError> {
    match blobs.get(&knowledge_key(jurisdiction)).await? {
        None => Ok(KnowledgeBase {
            jurisdiction: jurisdiction.clone(),
            articles: Default::default(),
            service_keywords: Default::default(),
        }),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| PortError::permanent("read knowledge base", e.to_string())),
    }
}
