//! Where the SLA sweep stopped when its time ran short: one item, written
//! at the end of every run (removed when a run went round every department).

use async_trait::async_trait;
use citydesk_core::ports::{PortError, SweepPosition, SweepProgress};

use super::DynamoStore;
use super::items::{from_item, s, to_item};
use super::keys::{SWEEP_PK, SWEEP_SK};
use crate::sdk_error;

#[async_trait]
impl SweepProgress for DynamoStore {
    async fn load(&self) -> Result<Option<SweepPosition>, PortError> {
        self.get_item(SWEEP_PK.to_owned(), SWEEP_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn save(&self, position: Option<&SweepPosition>) -> Result<(), PortError> {
        match position {
            Some(p) => {
                self.client()
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(to_item(p, SWEEP_PK.to_owned(), SWEEP_SK)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("save sweep position", &e.into_service_error()))?;
            }
            None => {
                self.client()
                    .delete_item()
                    .table_name(self.table())
                    .key("pk", s(SWEEP_PK))
                    .key("sk", s(SWEEP_SK))
                    .send()
                    .await
                    .map_err(|e| sdk_error("clear sweep position", &e.into_service_error()))?;
            }
        }
        Ok(())
    }
}
