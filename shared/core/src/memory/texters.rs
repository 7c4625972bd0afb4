//! The in-memory twins of [`TexterStore`] and [`RateCounter`].

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use jiff::Timestamp;

use super::lock;
use crate::channels::texter::{Conversation, TexterProfile};
use crate::ports::{PortError, RateCounter, TexterStore};

#[derive(Debug, Default)]
pub struct MemoryTexters {
    profiles: Mutex<HashMap<String, TexterProfile>>,
    conversations: Mutex<HashMap<String, Conversation>>,
}

/// The in-memory twin of [`RateCounter`].
#[derive(Debug, Default)]
pub struct MemoryCounters {
    counts: Mutex<HashMap<(String, i64), u32>>,
}

#[async_trait]
impl RateCounter for MemoryCounters {
    async fn count(&self, key: &str, window: Timestamp, _keep_secs: i64) -> Result<u32, PortError> {
        let mut counts = lock(&self.counts);
        let count = counts
            .entry((key.to_owned(), window.as_second()))
            .or_default();
        *count += 1;
        Ok(*count)
    }
}

#[async_trait]
impl TexterStore for MemoryTexters {
    async fn profile(&self, key: &str) -> Result<Option<TexterProfile>, PortError> {
        Ok(lock(&self.profiles).get(key).cloned())
    }

    async fn save_profile(&self, profile: &TexterProfile) -> Result<bool, PortError> {
        let mut profiles = lock(&self.profiles);
        let stored = profiles.get(&profile.key).map_or(0, |p| p.version);
        if stored != profile.version {
            return Ok(false);
        }
        let mut saved = profile.clone();
        saved.version += 1;
        profiles.insert(profile.key.clone(), saved);
        Ok(true)
    }

    async fn conversation(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<Conversation>, PortError> {
        Ok(lock(&self.conversations)
            .get(key)
            .filter(|c| c.expires_at > now)
            .cloned())
    }

    async fn save_conversation(&self, conversation: &Conversation) -> Result<bool, PortError> {
        let mut conversations = lock(&self.conversations);
        // An expired conversation counts as none (as the table's TTL makes it).
        let now = conversation.written_at();
        let stored = conversations
            .get(&conversation.key)
            .filter(|c| c.expires_at > now)
            .map_or(0, |c| c.version);
        if stored != conversation.version {
            return Ok(false);
        }
        let mut saved = conversation.clone();
        saved.version += 1;
        conversations.insert(conversation.key.clone(), saved);
        Ok(true)
    }

    async fn end_conversation(&self, key: &str) -> Result<(), PortError> {
        lock(&self.conversations).remove(key);
        Ok(())
    }
}
