//! A TCP proxy that can be cut: the server behind it "goes down" for its clients (open
//! connections are dropped, new ones refused) until it is restored. Shared by the tests that
//! need a real server to fail (webhook stores, the Redis rate limiter).

#![allow(dead_code)] // each test file uses a part

use std::sync::Arc;

pub struct Proxy {
    pub addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: std::net::SocketAddr) -> Arc<Proxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, _) = tokio::sync::watch::channel(false);
        let proxy = Arc::new(Proxy { addr, cut });
        let state = proxy.cut.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *state.borrow() {
                    continue; // refused while cut
                }
                let mut rx = state.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        proxy
    }

    /// Drops the open connections and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Accepts and forwards connections again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }

    /// `url` (`scheme://[user@]host:port/...`) with its port replaced by this proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).unwrap();
        parsed.set_port(Some(self.addr.port())).unwrap();
        parsed.to_string()
    }

    /// A proxy in front of the server of `url`, and `url` through it.
    pub async fn in_front_of(url: &str) -> (Arc<Proxy>, String) {
        let proxy = Proxy::start(socket_addr(url)).await;
        let proxied = proxy.url_for(url);
        (proxy, proxied)
    }
}

/// host:port of a `scheme://[user@]host:port/...` URL.
pub fn socket_addr(url: &str) -> std::net::SocketAddr {
    let parsed = url::Url::parse(url).expect("valid URL");
    let host = parsed.host_str().expect("host");
    let port = parsed.port().expect("explicit port");
    format!("{host}:{port}").parse().expect("numeric host")
}
