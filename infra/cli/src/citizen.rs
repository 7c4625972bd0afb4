//! `citydesk citizen export|erase --phone|--email`: everything held about a
//! person (RODO art. 15 and 20), and its erasure (art. 17). A person's
//! requests are found through the person index (the HMAC of each phone
//! number and e-mail address under the deployment's contact key); erasure
//! deletes their contact items, index entries, photos and training examples
//! and leaves each request anonymised in place (`usecases::erase_person`).
//! Queue messages and events carry only ids, so nothing personal waits there.
//! Erasing twice is harmless, and every run is recorded.

use anyhow::Context;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::operator_example_key;
use citydesk_core::contact::{Contact, ContactKey, Email, PhoneNumber};
use citydesk_core::ids::RequestId;
use citydesk_core::media::MediaRef;
use citydesk_core::ports::{ContactStore, RequestStore};
use citydesk_core::usecases::erase_person::{anonymised, anonymised_event};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::target::Deployment;

/// How often an anonymisation is retried when a writer changed the request meanwhile.
const ANONYMISE_ATTEMPTS: usize = 5;

/// The person, as the command line names them.
#[derive(Debug, Clone)]
pub enum Identifier {
    Phone(PhoneNumber),
    Email(Email),
}

impl Identifier {
    pub fn from_args(phone: Option<&str>, email: Option<&str>) -> anyhow::Result<Self> {
        match (phone, email) {
            (Some(phone), None) => Ok(Identifier::Phone(
                PhoneNumber::parse(phone).map_err(|e| anyhow::anyhow!("--phone: {e}"))?,
            )),
            (None, Some(email)) => Ok(Identifier::Email(
                Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?,
            )),
            _ => anyhow::bail!("name the person with exactly one of --phone or --email"),
        }
    }

    fn person_key(&self, key: &ContactKey) -> String {
        match self {
            Identifier::Phone(phone) => key.of_phone(phone),
            Identifier::Email(email) => key.of_email(email),
        }
    }
}

/// What an erasure did.
#[derive(Debug, Default, Serialize)]
pub struct ErasureReport {
    pub requests_anonymised: usize,
    pub contacts_deleted: usize,
    pub photos_deleted: usize,
    pub training_examples_deleted: usize,
    pub texts_erased: usize,
}

/// The deployment's contact key, from its SSM parameter.
pub async fn contact_key(deployment: &Deployment) -> anyhow::Result<ContactKey> {
    let ssm = aws_sdk_ssm::Client::new(&deployment.clients.sdk);
    citydesk_aws::secrets::contact_key(&ssm, &deployment.contact_key_parameter)
        .await
        .context("reading the contact key (the stack's ContactKeyParameter)")
}

/// Everything held about the person, as one JSON document.
pub async fn export(
    deployment: &Deployment,
    key: &ContactKey,
    person: &Identifier,
) -> anyhow::Result<serde_json::Value> {
    let store = &deployment.store;
    let person_key = person.person_key(key);
    let mut requests = Vec::new();
    for id in store.person_requests(&person_key).await? {
        let Some(request) = store.get(&id).await? else {
            continue;
        };
        let contact = store.contact(&id).await?;
        let history = store.history(&id).await?;
        let city = request.jurisdiction.to_string();
        let training = operator_example_key(&city, id.as_str());
        let photos: Vec<&str> = request
            .media
            .iter()
            .filter_map(|m| match m {
                MediaRef::Stored { key, .. } => Some(key.as_str()),
                MediaRef::Link { .. } => None,
            })
            .collect();
        requests.push(json!({
            "request": request,
            "contact": contact,
            "history": history,
            "photos_stored": photos,
            "used_for_training": deployment.blobs.get(&training).await?.is_some(),
        }));
    }
    let erasures: Vec<_> = store
        .erasures(&person_key)
        .await?
        .into_iter()
        .map(|(at, requests)| json!({"at": at, "requests": requests}))
        .collect();
    Ok(json!({
        "exported_at": Timestamp::now().to_string(),
        "requests": requests,
        "erasures": erasures,
    }))
}

/// Erases the person's data; their requests stay, anonymised.
pub async fn erase(
    deployment: &Deployment,
    key: &ContactKey,
    person: &Identifier,
) -> anyhow::Result<ErasureReport> {
    let store = &deployment.store;
    let person_key = person.person_key(key);
    let mut report = ErasureReport::default();
    for id in store.person_requests(&person_key).await? {
        erase_request(deployment, key, &person_key, &id, &mut report).await?;
    }
    store
        .record_erasure(&person_key, Timestamp::now(), report.requests_anonymised)
        .await?;
    Ok(report)
}

async fn erase_request(
    deployment: &Deployment,
    key: &ContactKey,
    person_key: &str,
    id: &RequestId,
    report: &mut ErasureReport,
) -> anyhow::Result<()> {
    let store = &deployment.store;
    let contact: Option<Contact> = store.contact(id).await?;
    // Every identifier of this contact goes from the index, not only the one asked for.
    let mut person_keys = contact
        .as_ref()
        .map(|c| key.person_keys(c))
        .unwrap_or_default();
    if !person_keys.iter().any(|k| k == person_key) {
        person_keys.push(person_key.to_owned());
    }
    if let Some(original) = store.get(id).await? {
        anonymise(store, id, contact.as_ref(), report).await?;
        for event in store.history(id).await? {
            if let Some(cut) = anonymised_event(&event, contact.as_ref()) {
                store.rewrite_event_text(id, &cut).await?;
                report.texts_erased += 1;
            }
        }
        for media in &original.media {
            if let MediaRef::Stored { key, .. } = media {
                deployment.blobs.delete(key).await?;
                // The upload it came from, if the bucket's rule has not removed it yet.
                deployment
                    .blobs
                    .delete(&key.replacen("media/", "uploads/", 1))
                    .await?;
                report.photos_deleted += 1;
            }
        }
        let training = operator_example_key(original.jurisdiction.as_str(), id.as_str());
        if deployment.blobs.get(&training).await?.is_some() {
            deployment.blobs.delete(&training).await?;
            report.training_examples_deleted += 1;
        }
    }
    if contact.is_some() {
        store.delete_contact(id).await?;
        report.contacts_deleted += 1;
    }
    store.delete_person_entries(&person_keys, id).await?;
    Ok(())
}

/// Writes the anonymised request, reading it again when a writer got there first.
async fn anonymise(
    store: &DynamoStore,
    id: &RequestId,
    contact: Option<&Contact>,
    report: &mut ErasureReport,
) -> anyhow::Result<()> {
    for _ in 0..ANONYMISE_ATTEMPTS {
        let Some(request) = store.get(id).await? else {
            return Ok(());
        };
        if store
            .replace_anonymised(&request, &anonymised(&request, contact))
            .await?
        {
            report.requests_anonymised += 1;
            return Ok(());
        }
    }
    anyhow::bail!("request {id} kept changing while it was anonymised; run the erasure again")
}
