//! The baseline of `bench/run`: axum on tokio, as dewstack is, answering each
//! benchmarked path with a JSON body of the size dewstack answered it with
//! (`sizes.tsv` from `bench_prep`), after reading the whole request body.
//! A path it was not told of gets 404, which the benchmark counts as an error.
//!
//! Usage: bench_bare <sizes.tsv>; prints `BARE_ADDR=127.0.0.1:port`.

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use std::collections::HashMap;
use std::sync::Arc;

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `{"x":"AAA…"}` of exactly `size` bytes (at least the 8 of an empty one).
fn body_of(size: usize) -> Bytes {
    let pad = size.saturating_sub(8);
    Bytes::from(format!("{{\"x\":\"{}\"}}", "A".repeat(pad)))
}

fn main() -> AnyResult<()> {
    let file = std::env::args()
        .nth(1)
        .ok_or("usage: bench_bare <sizes.tsv>")?;
    let mut answers: HashMap<(String, String), Bytes> = HashMap::new();
    for line in std::fs::read_to_string(file)?.lines() {
        let mut f = line.split('\t');
        if let (Some(m), Some(p), Some(n)) = (f.next(), f.next(), f.next()) {
            answers.insert((m.to_owned(), p.to_owned()), body_of(n.parse()?));
        }
    }
    let answers = Arc::new(answers);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, _body: Bytes| {
            let answers = answers.clone();
            async move {
                match answers.get(&(method.to_string(), uri.path().to_owned())) {
                    Some(b) => (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        b.clone(),
                    ),
                    None => (
                        StatusCode::NOT_FOUND,
                        [("content-type", "application/json")],
                        Bytes::new(),
                    ),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("BARE_ADDR={}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    })
}
