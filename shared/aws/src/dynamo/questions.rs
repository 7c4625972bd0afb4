//! The second line's questions: the question, the caller's contact apart
//! (expiring), and the department's open list, one partition a department.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use citydesk_core::contact::Contact;
use citydesk_core::ids::DepartmentCode;
use citydesk_core::ports::{ApplyOutcome, PortError, QuestionStore};
use citydesk_core::second_line::{Question, QuestionId};

use super::DynamoStore;
use super::items::{Item, epoch, from_item, n, put, s, to_item};
use crate::sdk_error;

const QUESTION_SK: &str = "QUESTION";
const CONTACT_SK: &str = "CONTACT";
/// How long a caller's contact is kept for the answer to reach them.
const CONTACT_DAYS: i64 = 30;

fn question_pk(id: &QuestionId) -> String {
    format!("QUESTION#{id}")
}

/// A department's open questions, by due time.
fn open_pk(department: &DepartmentCode) -> String {
    format!("DEPTQ#{department}")
}

fn open_sk(question: &Question) -> String {
    format!(
        "{}#{}",
        question.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        question.id
    )
}

fn without_keys(mut item: Item) -> Item {
    item.remove("pk");
    item.remove("sk");
    item.remove("expires_at");
    item
}

#[async_trait]
impl QuestionStore for DynamoStore {
    async fn create_question(
        &self,
        question: &Question,
        contact: Option<&Contact>,
    ) -> Result<bool, PortError> {
        let mut items: Vec<TransactWriteItem> = vec![
            put(
                &self.table,
                to_item(question, question_pk(&question.id), QUESTION_SK)?,
                Some("attribute_not_exists(pk)"),
                &[],
            )?,
            put(
                &self.table,
                to_item(
                    &serde_json::json!({"question_id": question.id}),
                    open_pk(&question.department),
                    &open_sk(question),
                )?,
                None,
                &[],
            )?,
        ];
        if let Some(contact) = contact {
            let mut item = to_item(contact, question_pk(&question.id), CONTACT_SK)?;
            let expires = question
                .asked_at
                .saturating_add(jiff::SignedDuration::from_hours(24 * CONTACT_DAYS))
                .unwrap_or(question.asked_at);
            item.insert("expires_at".to_owned(), n(epoch(expires)));
            items.push(put(&self.table, item, None, &[])?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = e.into_service_error();
                if err.is_transaction_canceled_exception() {
                    match self
                        .get_item(question_pk(&question.id), QUESTION_SK)
                        .await?
                    {
                        Some(_) => Ok(false),
                        None => Err(PortError::retryable(
                            "ask experts",
                            "cancelled, yet not written",
                        )),
                    }
                } else {
                    Err(sdk_error("ask experts", &err))
                }
            }
        }
    }

    async fn question(&self, id: &QuestionId) -> Result<Option<Question>, PortError> {
        self.get_item(question_pk(id), QUESTION_SK)
            .await?
            .map(|item| from_item(without_keys(item)))
            .transpose()
    }

    async fn answer_question(
        &self,
        answered: &Question,
        expected_version: u64,
    ) -> Result<ApplyOutcome, PortError> {
        let written = put(
            &self.table,
            to_item(answered, question_pk(&answered.id), QUESTION_SK)?,
            Some("version = :expected"),
            &[(":expected", n(expected_version))],
        )?;
        let mut open = answered.clone();
        open.version = expected_version;
        let off_the_list = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(open_pk(&answered.department)))
            .key("sk", s(open_sk(&open)))
            .build()
            .map_err(|e| PortError::permanent("build delete", e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(written)
            .transact_items(TransactWriteItem::builder().delete(off_the_list).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(ApplyOutcome::Applied),
            Err(e) => {
                let err = e.into_service_error();
                if err.is_transaction_canceled_exception() {
                    Ok(ApplyOutcome::Conflict)
                } else {
                    Err(sdk_error("answer question", &err))
                }
            }
        }
    }

    async fn open_questions(
        &self,
        department: &DepartmentCode,
        limit: usize,
    ) -> Result<Vec<Question>, PortError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(open_pk(department)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("open questions", &e.into_service_error()))?;
        let ids: Vec<QuestionId> = out
            .items()
            .iter()
            .filter_map(|i| i.get("question_id")?.as_s().ok())
            .filter_map(|raw| QuestionId::parse(raw).ok())
            .collect();
        let found = futures::future::try_join_all(ids.iter().map(|id| self.question(id))).await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn question_contact(&self, id: &QuestionId) -> Result<Option<Contact>, PortError> {
        let Some(item) = self.get_item(question_pk(id), CONTACT_SK).await? else {
            return Ok(None);
        };
        let expired = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|at| at < jiff::Timestamp::now().as_second());
        if expired {
            return Ok(None);
        }
        from_item(without_keys(item)).map(Some)
    }
}
