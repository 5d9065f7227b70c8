//! Concurrent withdrawals can never overdraw a balance.

mod common;

use common::{start_default, withdrawal_body};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_withdrawals_against_room_for_ten() {
    let h = start_default().await;
    // 10_000 + 4.5% fee = 10_450 per withdrawal; the balance fits exactly ten.
    h.server.set_balance("ARS", 104_500, 0).await.expect("set");
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let http = h.http.clone();
            let url = h.url("/api/v1/payments");
            let key = h.key.clone();
            tokio::spawn(async move {
                let response = http
                    .post(url)
                    .header("X-API-Key", key)
                    .json(&withdrawal_body(10_000, &format!("concurrent_{i}")))
                    .send()
                    .await
                    .expect("sent");
                common::reply(response).await
            })
        })
        .collect();
    let mut created = 0;
    let mut refused = 0;
    for task in tasks {
        let reply = task.await.expect("task");
        match reply.status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => {
                assert_eq!(reply.code(), "INSUFFICIENT_BALANCE");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:#}", reply.body),
        }
    }
    assert_eq!((created, refused), (10, 54));
    assert_eq!(
        h.server.balance("ARS").await.expect("balance"),
        (0, 104_500)
    );
    assert_eq!(h.server.payment_count().await.expect("count"), 10);
    let balance: luxcore_api::types::Balance = h.get("/api/v1/balance?currency=ARS").await.parse();
    assert_eq!(balance.balance_amount, "104500");
    assert_eq!(balance.available_amount, "0");
}
