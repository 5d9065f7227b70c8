//! The server: [`MockServer`] with its control methods, the accept loop (hyper HTTP/1 per
//! connection, so a handler can have its connection closed without a response) and the
//! webhook [`delivery`] worker.

mod delivery;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use luxcore_api::types::{Payment, TicketComment};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::Service;

use self::delivery::Deliverer;
use crate::error::MockError;
use crate::http::pipeline::DropConnection;
use crate::state::config::{DuplicateAnswer, FaultConfig, MockConfig};
use crate::state::faults::FaultInjector;
use crate::state::{App, stopped};
use crate::store::payments::Transition;

/// A running mock LuxCore API server. Dropping it shuts the server down (the
/// listener, open connections and pending webhook deliveries).
pub struct MockServer {
    app: Arc<App>,
    addr: SocketAddr,
    base_url: String,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn base_url_for(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            format!("http://{}:{}", Ipv4Addr::LOCALHOST, addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            format!("http://[{}]:{}", Ipv6Addr::LOCALHOST, addr.port())
        }
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let signal = DropConnection::default();
    let handle = signal.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        let mut router = router.clone();
        async move {
            let response: Result<_, Infallible> = router.call(request.map(Body::new)).await;
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection error");
            }
        }
        () = signal.fired() => {
            tracing::debug!("dropping connection after commit (injected fault)");
        }
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl MockServer {
    /// Binds the configured address and starts serving in the background (on the
    /// current tokio runtime).
    pub async fn start(config: MockConfig) -> Result<Self, MockError> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let base_url = base_url_for(addr);
        let deliverer = Deliverer::new(&config)?;
        let (app, queued) = App::new(&config, base_url.clone());
        let app = Arc::new(app);
        tokio::spawn(deliverer.run(Arc::clone(&app), queued));
        let router = crate::http::router(Arc::clone(&app));
        let accept = tokio::spawn(accept_loop(listener, router, app.shutdown.subscribe()));
        Ok(Self {
            app,
            addr,
            base_url,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Completes a pending/processing payment (deposit: funds become available;
    /// withdrawal: frozen funds leave).
    pub async fn complete_payment(&self, id: &str) -> Result<Payment, MockError> {
        self.transition(id, Transition::Complete)
    }

    /// Fails a pending/processing payment (withdrawal: frozen funds are released).
    pub async fn fail_payment(&self, id: &str) -> Result<Payment, MockError> {
        self.transition(id, Transition::Fail)
    }

    /// Expires a pending/processing payment (no webhook event).
    pub async fn expire_payment(&self, id: &str) -> Result<Payment, MockError> {
        self.transition(id, Transition::Expire)
    }

    fn transition(&self, id: &str, transition: Transition) -> Result<Payment, MockError> {
        self.app
            .mutate(|store, events| store.transition(id, transition, events))
            .map_err(MockError::from)
    }

    /// Refunds a completed deposit: all of it (`None`) or `amount` minor units.
    pub async fn refund_payment(
        &self,
        id: &str,
        amount: Option<i64>,
    ) -> Result<Payment, MockError> {
        self.app
            .mutate(|store, events| store.refund(id, amount, events))
            .map_err(MockError::from)
    }

    /// Sets the `main` balance of a currency.
    pub async fn set_balance(
        &self,
        currency: &str,
        available: i64,
        frozen: i64,
    ) -> Result<(), MockError> {
        self.app
            .store()
            .set_funds(currency, available, frozen)
            .map_err(MockError::from)
    }

    /// `(available, frozen)` of a currency's `main` balance.
    pub async fn balance(&self, currency: &str) -> Result<(i64, i64), MockError> {
        let funds = self.app.store().funds(currency)?;
        Ok((funds.available, funds.frozen))
    }

    /// Forgets all payments, balances, webhooks, tickets, nonces and rate-limit
    /// counters, and restores the configured faults and duplicate answer.
    pub async fn reset(&self) -> Result<(), MockError> {
        self.app.reset();
        Ok(())
    }

    /// Number of payments created with this merchant reference.
    pub async fn payments_by_reference(&self, reference: &str) -> Result<usize, MockError> {
        Ok(self.app.store().count_by_reference(reference))
    }

    /// Number of payments.
    pub async fn payment_count(&self) -> Result<usize, MockError> {
        Ok(self.app.store().payments.len())
    }

    /// Replaces the fault configuration (schedule and RNG start over).
    pub async fn set_faults(&self, faults: FaultConfig) -> Result<(), MockError> {
        *self.app.faults() = FaultInjector::new(faults);
        Ok(())
    }

    /// Changes how creations with a taken `merchant_reference` are answered, until the
    /// next reset (which restores the configured answer).
    pub async fn set_duplicates(&self, answer: DuplicateAnswer) -> Result<(), MockError> {
        self.app.set_duplicates(answer);
        Ok(())
    }

    /// How creations with a taken `merchant_reference` are answered now.
    pub async fn duplicates(&self) -> Result<DuplicateAnswer, MockError> {
        Ok(self.app.duplicates())
    }

    /// Adds a support-team reply to a ticket (emits `ticket.comment_added`).
    pub async fn support_reply(
        &self,
        ticket_id: &str,
        content: &str,
    ) -> Result<TicketComment, MockError> {
        self.app
            .mutate(|store, events| {
                store.add_comment(ticket_id, content.to_owned(), &[], true, events)
            })
            .map_err(MockError::from)
    }

    /// Shuts the server down (same as dropping it).
    pub fn shutdown(self) {}
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.app.shutdown.send_replace(true);
        self.accept.abort();
    }
}
