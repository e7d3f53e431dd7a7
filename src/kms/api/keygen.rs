//! Expensive key generation (RSA key pairs: CreateKey, CreateRsaDatakeyPair,
//! GetParametersForImport's wrapping key) runs on tokio's blocking pool,
//! which storage shares. At most `MAX_KEYGENS` run at once per node; a
//! request waits up to `KEYGEN_WAIT` for a turn, then is refused as
//! throttled (429 `APIGW.0308`, the cloud's answer when a limit is hit; the
//! SDKs treat it as retryable). Both numbers are dewstack's choice: the
//! cloud publishes no bound for concurrent key generations.

use crate::kms::error::KmsError;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Concurrent expensive generations per node (a 4096-bit RSA key takes
/// about a second of one core; storage keeps the rest of the pool).
pub const MAX_KEYGENS: usize = 2;
/// How long a request queues for a turn before it is refused.
pub const KEYGEN_WAIT: Duration = Duration::from_secs(10);

fn turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| Semaphore::new(MAX_KEYGENS))
}

/// Runs `work` on the blocking pool once one of this node's turns is free.
pub async fn generate<T, F>(work: F) -> Result<T, KmsError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, KmsError> + Send + 'static,
{
    bounded(turns(), KEYGEN_WAIT, work).await
}

async fn bounded<T, F>(turns: &Semaphore, wait: Duration, work: F) -> Result<T, KmsError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, KmsError> + Send + 'static,
{
    let _turn = match tokio::time::timeout(wait, turns.acquire()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(_)) | Err(_) => return Err(KmsError::Throttled),
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KmsError::Internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_full_node_queues_then_refuses() {
        let turns = Semaphore::new(1);
        let held = turns.acquire().await.unwrap();
        let wait = Duration::from_millis(50);
        let err = bounded(&turns, wait, || Ok(1)).await.unwrap_err();
        assert_eq!(err.status_and_code().0.as_u16(), 429);
        drop(held);
        assert_eq!(bounded(&turns, wait, || Ok(2)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn never_more_than_the_turns_at_once() {
        let turns = Arc::new(Semaphore::new(2));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut jobs = Vec::new();
        for _ in 0..6 {
            let (turns, now, peak) = (turns.clone(), now.clone(), peak.clone());
            jobs.push(tokio::spawn(async move {
                bounded(&turns, Duration::from_secs(30), move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
            }));
        }
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
