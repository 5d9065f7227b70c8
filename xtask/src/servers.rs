//! The real servers the test suite needs (`cargo xtask test`): a redis-server and a
//! PostgreSQL, each on 127.0.0.1 with a free port and a temporary data directory.
//!
//! - Missing binaries are installed from Debian packages (`apt-get install redis-server` /
//!   `postgresql`), only when missing, and only as root (otherwise the run fails and says
//!   what to install).
//! - PostgreSQL refuses to run as root, so as root its data directory belongs to, and the
//!   server runs as, the `postgres` user (created when missing); trust authentication on
//!   127.0.0.1. It runs with `ssl = on` and the test CA's server certificate; `pg_hba.conf`
//!   admits [`TLS_ROLE`] over TLS only and [`CERT_ROLE`] with a client certificate only,
//!   while `postgres` connects in plaintext or over TLS.
//! - Each server runs in its own process group, so a Ctrl-C at the terminal reaches the
//!   tests, not the servers; [`Servers`] stops them (redis: SIGTERM, PostgreSQL: SIGINT =
//!   fast shutdown, then SIGKILL after 10 s) and removes the temporary directory when it is
//!   dropped: on success, on a failed test run, on a panic and after a signal.
//! - The tests find them through [`REDIS_URL_ENV`], [`POSTGRES_URL_ENV`],
//!   [`POSTGRES_TLS_URL_ENV`] and [`POSTGRES_CERT_URL_ENV`]; the run's test CA
//!   ([`crate::test_ca`]) through its own variables.
//! - The redis-server also listens for TLS ([`REDIS_TLS_URL_ENV`]: the test CA's server
//!   certificate, client certificates required), and a 3-master Redis Cluster (three more
//!   redis-servers in cluster mode, joined by `redis-cli --cluster create`) runs beside it
//!   ([`REDIS_CLUSTER_NODES_ENV`]), and a second one that speaks TLS only
//!   ([`REDIS_TLS_CLUSTER_NODES_ENV`]).

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::test_ca::{self, TestCa};

/// `redis://127.0.0.1:PORT` of the test redis-server.
pub const REDIS_URL_ENV: &str = "LUXCORE_TEST_REDIS_URL";
/// `rediss://127.0.0.1:PORT`: the test redis-server's TLS port (client certificate required).
pub const REDIS_TLS_URL_ENV: &str = "LUXCORE_TEST_REDIS_TLS_URL";
/// `redis://127.0.0.1:P1,redis://127.0.0.1:P2,redis://127.0.0.1:P3`: the test Redis Cluster.
pub const REDIS_CLUSTER_NODES_ENV: &str = "LUXCORE_TEST_REDIS_CLUSTER_NODES";
/// `rediss://127.0.0.1:P1,...`: a second test Redis Cluster, TLS only (client certificates
/// required, the cluster bus over TLS too).
pub const REDIS_TLS_CLUSTER_NODES_ENV: &str = "LUXCORE_TEST_REDIS_TLS_CLUSTER_NODES";
/// Masters of each test Redis Cluster (the fewest `redis-cli --cluster create` accepts).
pub const REDIS_CLUSTER_MASTERS: usize = 3;

/// `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable` of the test PostgreSQL
/// (plaintext, although the server offers TLS).
pub const POSTGRES_URL_ENV: &str = "LUXCORE_TEST_POSTGRES_URL";
/// The same PostgreSQL as [`TLS_ROLE`], which `pg_hba.conf` admits over TLS only, with
/// `sslmode=verify-full` (the server certificate is the run's test CA's).
pub const POSTGRES_TLS_URL_ENV: &str = "LUXCORE_TEST_POSTGRES_TLS_URL";
/// The same PostgreSQL as [`CERT_ROLE`], which must present the run's client certificate,
/// with `sslmode=verify-full`.
pub const POSTGRES_CERT_URL_ENV: &str = "LUXCORE_TEST_POSTGRES_CERT_URL";
/// The role admitted over TLS only (trust), plaintext rejected.
pub const TLS_ROLE: &str = "luxcore_tls";
/// The role admitted over TLS with a client certificate of the test CA only (`cert`
/// authentication, the certificate's CN mapped to the role).
pub const CERT_ROLE: &str = "luxcore_cert";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A port on 127.0.0.1 that was free a moment ago (bound, then released).
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// The redis URL for `port`.
pub fn redis_url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

/// The PostgreSQL URL for `port` (user and database `postgres`, trust auth, plaintext:
/// the suites that run over TLS too use [`postgres_tls_url`] for that).
pub fn postgres_url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable")
}

/// The PostgreSQL URL for `role` over TLS (`sslmode=verify-full`; the certificate is valid
/// for 127.0.0.1).
pub fn postgres_tls_url(role: &str, port: u16) -> String {
    format!("postgres://{role}@127.0.0.1:{port}/postgres?sslmode=verify-full")
}

/// `pg_hba.conf` (first match wins): [`TLS_ROLE`] over TLS only, [`CERT_ROLE`] over TLS
/// with a client certificate only, everyone else trusted as before (plaintext or TLS).
pub fn pg_hba() -> String {
    format!(
        "# cargo xtask test
local     all all            trust
hostnossl all {TLS_ROLE}  127.0.0.1/32 reject
hostssl   all {TLS_ROLE}  127.0.0.1/32 trust
hostnossl all {CERT_ROLE} 127.0.0.1/32 reject
hostssl   all {CERT_ROLE} 127.0.0.1/32 cert map=luxcore_test
host      all all            127.0.0.1/32 trust
host      all all            ::1/128      trust
"
    )
}

/// `pg_ident.conf`: the test client certificate's CN is [`CERT_ROLE`].
pub fn pg_ident() -> String {
    format!("luxcore_test {} {CERT_ROLE}\n", test_ca::CLIENT_NAME)
}

/// The SQL run in single-user mode before the server starts: the TLS roles. They are
/// superusers so that they share the tests' tables with `postgres` (a loopback test server
/// with trust authentication: nothing to protect).
pub fn tls_roles_sql() -> String {
    format!("CREATE ROLE {TLS_ROLE} LOGIN SUPERUSER;\nCREATE ROLE {CERT_ROLE} LOGIN SUPERUSER;\n")
}

/// postgres arguments for TLS: `ssl = on` with the server certificate and key, and the CA
/// that client certificates must chain to.
pub fn postgres_tls_args(cert: &Path, key: &Path, ca: &Path) -> Vec<String> {
    [
        "ssl=on".to_owned(),
        format!("ssl_cert_file={}", cert.display()),
        format!("ssl_key_file={}", key.display()),
        format!("ssl_ca_file={}", ca.display()),
    ]
    .into_iter()
    .flat_map(|setting| ["-c".to_owned(), setting])
    .collect()
}

/// redis-server arguments: loopback only, no persistence, data and log in `dir`.
pub fn redis_args(port: u16, dir: &Path) -> Vec<String> {
    vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        String::new(),
        "--appendonly".into(),
        "no".into(),
        "--daemonize".into(),
        "no".into(),
        "--protected-mode".into(),
        "yes".into(),
        "--dir".into(),
        dir.display().to_string(),
    ]
}

/// The TLS URL for `port` (the server certificate is valid for 127.0.0.1).
pub fn redis_tls_url(port: u16) -> String {
    format!("rediss://127.0.0.1:{port}")
}

/// The cluster's node list, as [`REDIS_CLUSTER_NODES_ENV`] carries it.
pub fn redis_cluster_nodes(ports: &[u16]) -> String {
    node_list(ports, redis_url)
}

/// The TLS cluster's node list, as [`REDIS_TLS_CLUSTER_NODES_ENV`] carries it.
pub fn redis_tls_cluster_nodes(ports: &[u16]) -> String {
    node_list(ports, redis_tls_url)
}

fn node_list(ports: &[u16], url: fn(u16) -> String) -> String {
    ports
        .iter()
        .map(|&port| url(port))
        .collect::<Vec<_>>()
        .join(",")
}

/// redis-server arguments for one node of the TLS-only test cluster: no plaintext port,
/// the client port and the cluster bus over TLS (the test CA's server certificate, client
/// certificates required). On the bus a node is also a client of the others, so it
/// presents the test client certificate (the server certificate is for server use only).
pub fn redis_tls_cluster_args(tls_port: u16, dir: &Path, ca: &TestCa) -> Vec<String> {
    let path = |p: &Path| p.display().to_string();
    let mut args = redis_cluster_args(0, dir);
    args.extend(redis_tls_args(tls_port, ca));
    args.extend(["--tls-cluster", "yes", "--tls-replication", "yes"].map(String::from));
    args.extend([
        "--tls-client-cert-file".into(),
        path(&ca.client_cert),
        "--tls-client-key-file".into(),
        path(&ca.client_key),
    ]);
    args
}

/// `redis-cli` arguments to reach the TLS-only nodes: the test CA and client certificate.
pub fn redis_cli_tls_args(ca: &TestCa) -> Vec<String> {
    let path = |p: &Path| p.display().to_string();
    vec![
        "--tls".into(),
        "--cacert".into(),
        path(&ca.ca_cert),
        "--cert".into(),
        path(&ca.client_cert),
        "--key".into(),
        path(&ca.client_key),
    ]
}

/// redis-server arguments for a TLS port beside the plaintext one: the test CA's server
/// certificate, and client certificates signed by the CA required.
pub fn redis_tls_args(tls_port: u16, ca: &TestCa) -> Vec<String> {
    let path = |p: &Path| p.display().to_string();
    vec![
        "--tls-port".into(),
        tls_port.to_string(),
        "--tls-cert-file".into(),
        path(&ca.server_cert),
        "--tls-key-file".into(),
        path(&ca.server_key),
        "--tls-ca-cert-file".into(),
        path(&ca.ca_cert),
        "--tls-auth-clients".into(),
        "yes".into(),
    ]
}

/// redis-server arguments for one node of the test cluster (its `nodes.conf` in `dir`).
pub fn redis_cluster_args(port: u16, dir: &Path) -> Vec<String> {
    let mut args = redis_args(port, dir);
    args.extend(
        [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
        ]
        .map(String::from),
    );
    args
}

/// `redis-cli` arguments that join `ports` into a cluster of masters only.
pub fn redis_cluster_create_args(ports: &[u16]) -> Vec<String> {
    let mut args = vec!["--cluster".to_owned(), "create".to_owned()];
    args.extend(ports.iter().map(|port| format!("127.0.0.1:{port}")));
    args.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
    args
}

/// initdb arguments: superuser `postgres`, trust authentication, no fsync.
pub fn initdb_args(data: &Path) -> Vec<String> {
    vec![
        "-D".into(),
        data.display().to_string(),
        "-U".into(),
        "postgres".into(),
        "--auth=trust".into(),
        "-E".into(),
        "UTF8".into(),
        "--no-sync".into(),
    ]
}

/// postgres arguments: TCP on 127.0.0.1 only, the Unix socket in `socket_dir`, durability
/// off (test data).
pub fn postgres_args(port: u16, data: &Path, socket_dir: &Path) -> Vec<String> {
    let mut args = vec![
        "-D".into(),
        data.display().to_string(),
        "-h".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-k".into(),
        socket_dir.display().to_string(),
    ];
    for setting in [
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=200",
    ] {
        args.push("-c".into());
        args.push(setting.into());
    }
    args
}

/// The newest PostgreSQL `bin` directory among `candidates` (`.../postgresql/<version>/bin`)
/// that holds `postgres` and `initdb`; versions compare numerically (16 > 9.6).
pub fn newest_postgres_bin(candidates: &[PathBuf]) -> Option<PathBuf> {
    let version = |bin: &Path| -> Vec<u32> {
        bin.parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str())
            .map(|v| v.split('.').filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default()
    };
    candidates
        .iter()
        .filter(|bin| bin.join("postgres").is_file() && bin.join("initdb").is_file())
        .max_by_key(|bin| version(bin))
        .cloned()
}

/// The PostgreSQL `bin` directories installed by Debian packages.
fn installed_postgres_bins() -> Vec<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .collect()
        })
        .unwrap_or_default()
}

/// The directory of `program` on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn find_postgres_bin() -> Option<PathBuf> {
    newest_postgres_bin(&installed_postgres_bins()).or_else(|| {
        let postgres = on_path("postgres")?;
        let bin = fs::canonicalize(postgres).ok()?.parent()?.to_path_buf();
        bin.join("initdb").is_file().then_some(bin)
    })
}

fn find_redis_server() -> Option<PathBuf> {
    on_path("redis-server").or_else(|| {
        let usual = PathBuf::from("/usr/bin/redis-server");
        usual.is_file().then_some(usual)
    })
}

/// The effective user id (`id -u`).
fn euid() -> Result<u32, String> {
    id(&["-u"])
}

/// Runs `id ARGS` and parses the number it prints.
fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("could not run `id`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`id {}` failed", args.join(" ")));
    }
    parse_id(&String::from_utf8_lossy(&out.stdout))
}

/// Parses the output of `id -u`/`id -g`.
pub fn parse_id(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("unexpected output of `id`: {text:?}"))
}

/// `apt-get install -y PACKAGES` (after one `apt-get update`), as root only.
fn apt_install(packages: &[&str], updated: &mut bool) -> Result<(), String> {
    if euid()? != 0 {
        return Err(format!(
            "{} is not installed and this is not root: install it (Debian: `sudo apt-get install {}`)",
            packages.join(", "),
            packages.join(" ")
        ));
    }
    let run = |args: &[&str]| -> Result<(), String> {
        eprintln!("xtask: apt-get {}", args.join(" "));
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("could not run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed ({status})", args.join(" ")))
        }
    };
    if !*updated {
        run(&["update", "-q"])?;
        *updated = true;
    }
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&args)
}

/// A server process of ours; stopped by [`Servers`]' drop.
struct Process {
    name: &'static str,
    child: Child,
    stop_signal: i32,
    log: PathBuf,
}

impl Process {
    fn spawn(
        name: &'static str,
        mut command: Command,
        log: PathBuf,
        stop_signal: i32,
    ) -> Result<Self, String> {
        let out = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        // Own process group: a terminal Ctrl-C goes to the tests, not to the servers.
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| format!("could not start {name}: {e}"))?;
        Ok(Process {
            name,
            child,
            stop_signal,
            log,
        })
    }

    /// Fails with the log's tail if the process has exited.
    fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited during startup ({status}); its log:\n{}",
                self.name,
                tail(&self.log)
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; no memory is shared.
        unsafe {
            libc::kill(pid, self.stop_signal);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("xtask: {} did not stop in time, killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log file.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Waits until `ready` answers, failing early if the process died.
fn wait_ready(process: &mut Process, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        process.check_running()?;
        if ready() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} did not become ready within {STARTUP_TIMEOUT:?}; its log:\n{}",
                process.name,
                tail(&process.log)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `PING` answered with `+PONG`.
fn redis_ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// `redis-cli` (with `tls` arguments, if any) runs `command` on `port` and its answer
/// contains `expected` (e.g. `CLUSTER INFO` says `cluster_state:ok`).
fn redis_cli_says(
    redis_cli: &Path,
    tls: &[String],
    port: u16,
    command: &[&str],
    expected: &str,
) -> bool {
    Command::new(redis_cli)
        .args(tls)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(command)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(expected))
}

/// The running servers and their temporary directory; dropping it stops both and removes
/// the directory.
pub struct Servers {
    dir: PathBuf,
    processes: Vec<Process>,
    redis_port: u16,
    redis_tls_port: u16,
    redis_cluster_ports: Vec<u16>,
    redis_tls_cluster_ports: Vec<u16>,
    postgres_port: u16,
    /// The run's test CA and certificates ([`crate::test_ca`]), in `dir/tls`.
    tls: TestCa,
}

impl Servers {
    /// Installs what is missing, then starts redis-server and PostgreSQL.
    pub fn start() -> Result<Servers, String> {
        let mut apt_updated = false;
        let redis_server = match find_redis_server() {
            Some(path) => path,
            None => {
                apt_install(&["redis-server"], &mut apt_updated)?;
                find_redis_server().ok_or("redis-server is still missing after apt-get")?
            }
        };
        let pg_bin = match find_postgres_bin() {
            Some(bin) => bin,
            None => {
                apt_install(&["postgresql"], &mut apt_updated)?;
                find_postgres_bin().ok_or("PostgreSQL is still missing after apt-get")?
            }
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("luxcore-xtask-{}-{nanos:x}", std::process::id()));
        fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let tls = match test_ca::generate(&dir.join("tls")) {
            Ok(tls) => tls,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut servers = Servers {
            dir,
            processes: Vec::new(),
            redis_port: 0,
            redis_tls_port: 0,
            redis_cluster_ports: Vec::new(),
            redis_tls_cluster_ports: Vec::new(),
            postgres_port: 0,
            tls,
        };
        // From here on, an error drops `servers`: what started is stopped, the dir removed.
        servers.start_redis(&redis_server)?;
        servers.redis_cluster_ports = servers.start_redis_cluster(&redis_server, false)?;
        servers.redis_tls_cluster_ports = servers.start_redis_cluster(&redis_server, true)?;
        servers.start_postgres(&pg_bin)?;
        Ok(servers)
    }

    fn start_redis(&mut self, redis_server: &Path) -> Result<(), String> {
        let dir = self.dir.join("redis");
        fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let tls_port = free_port()?;
        let mut command = Command::new(redis_server);
        command
            .args(redis_args(port, &dir))
            .args(redis_tls_args(tls_port, &self.tls));
        let mut process = Process::spawn(
            "redis-server",
            command,
            self.dir.join("redis.log"),
            libc::SIGTERM,
        )?;
        let ready = wait_ready(&mut process, || redis_ping(port));
        self.processes.push(process);
        ready?;
        self.redis_port = port;
        self.redis_tls_port = tls_port;
        eprintln!(
            "xtask: redis-server on {} and {}",
            redis_url(port),
            redis_tls_url(tls_port)
        );
        Ok(())
    }

    /// Three redis-servers in cluster mode, joined into a cluster of 3 masters (with `tls`:
    /// TLS only, client certificates required); ready once every node reports
    /// `cluster_state:ok`. Returns the nodes' client ports.
    fn start_redis_cluster(&mut self, redis_server: &Path, tls: bool) -> Result<Vec<u16>, String> {
        let name = if tls {
            "redis-tls-cluster"
        } else {
            "redis-cluster"
        };
        let root = self.dir.join(name);
        let redis_cli = redis_server.with_file_name("redis-cli");
        let redis_cli = if redis_cli.is_file() {
            redis_cli
        } else {
            on_path("redis-cli").ok_or("redis-cli (package redis-tools) is missing")?
        };
        let cli_tls = if tls {
            redis_cli_tls_args(&self.tls)
        } else {
            Vec::new()
        };
        let mut ports = Vec::new();
        for node in 0..REDIS_CLUSTER_MASTERS {
            let dir = root.join(format!("node{node}"));
            fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let port = free_port()?;
            let mut command = Command::new(redis_server);
            if tls {
                command.args(redis_tls_cluster_args(port, &dir, &self.tls));
            } else {
                command.args(redis_cluster_args(port, &dir));
            }
            let mut process = Process::spawn(
                if tls {
                    "redis-server (TLS cluster node)"
                } else {
                    "redis-server (cluster node)"
                },
                command,
                dir.join("redis.log"),
                libc::SIGTERM,
            )?;
            let ready = wait_ready(&mut process, || {
                if tls {
                    redis_cli_says(&redis_cli, &cli_tls, port, &["ping"], "PONG")
                } else {
                    redis_ping(port)
                }
            });
            self.processes.push(process);
            ready?;
            ports.push(port);
        }
        // Bounded: `--cluster create` waits for the nodes to meet, forever if they cannot.
        let log = root.join("cluster-create.log");
        let log_file = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut create = Command::new(&redis_cli)
            .args(&cli_tls)
            .args(redis_cluster_create_args(&ports))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("could not run redis-cli: {e}"))?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let status = loop {
            match create.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break Some(status),
                None if Instant::now() > deadline => {
                    let _ = create.kill();
                    let _ = create.wait();
                    break None;
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if !status.is_some_and(|s| s.success()) {
            return Err(format!(
                "redis-cli --cluster create ({name}) failed ({}):\n{}",
                status.map_or_else(
                    || format!("no answer within {STARTUP_TIMEOUT:?}"),
                    |s| s.to_string()
                ),
                tail(&log)
            ));
        }
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !ports.iter().all(|&port| {
            redis_cli_says(
                &redis_cli,
                &cli_tls,
                port,
                &["cluster", "info"],
                "cluster_state:ok",
            )
        }) {
            if Instant::now() > deadline {
                return Err(format!("the {name} was not ok within {STARTUP_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let nodes = if tls {
            redis_tls_cluster_nodes(&ports)
        } else {
            redis_cluster_nodes(&ports)
        };
        eprintln!("xtask: {name} of {REDIS_CLUSTER_MASTERS} masters on {nodes}");
        Ok(ports)
    }

    fn start_postgres(&mut self, bin: &Path) -> Result<(), String> {
        let root = self.dir.join("postgres");
        let data = root.join("data");
        fs::create_dir(&root).map_err(|e| e.to_string())?;
        // As root, PostgreSQL runs as `postgres`, which must reach its directories.
        let user = if euid()? == 0 {
            if id(&["-u", "postgres"]).is_err() {
                let status = Command::new("useradd")
                    .args(["--system", "--user-group", "--no-create-home", "postgres"])
                    .status()
                    .map_err(|e| format!("could not run useradd: {e}"))?;
                if !status.success() {
                    return Err("could not create the `postgres` user".into());
                }
            }
            let uid = id(&["-u", "postgres"])?;
            let gid = id(&["-g", "postgres"])?;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o755))
                .map_err(|e| e.to_string())?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", root.display()))?;
            Some((uid, gid))
        } else {
            None
        };
        let as_user = |command: &mut Command| {
            if let Some((uid, gid)) = user {
                command.uid(uid).gid(gid);
            }
        };
        let log = self.dir.join("postgres.log");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.args(initdb_args(&data)).env("LC_ALL", "C");
        as_user(&mut initdb);
        let out = initdb
            .output()
            .map_err(|e| format!("could not run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let tls_args = self.postgres_tls_setup(bin, &root, &data, user)?;
        let port = free_port()?;
        let mut command = Command::new(bin.join("postgres"));
        command
            .args(postgres_args(port, &data, &root))
            .args(tls_args)
            .env("LC_ALL", "C");
        as_user(&mut command);
        let mut process = Process::spawn("postgres", command, log, libc::SIGINT)?;
        let pg_isready = [bin.join("pg_isready"), PathBuf::from("/usr/bin/pg_isready")]
            .into_iter()
            .find(|p| p.is_file());
        let ready = wait_ready(&mut process, || match &pg_isready {
            Some(pg_isready) => Command::new(pg_isready)
                .args([
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "postgres",
                ])
                .status()
                .is_ok_and(|s| s.success()),
            None => TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok(),
        });
        self.processes.push(process);
        ready?;
        self.postgres_port = port;
        eprintln!(
            "xtask: PostgreSQL on {} (TLS: {})",
            postgres_url(port),
            postgres_tls_url(TLS_ROLE, port)
        );
        Ok(())
    }

    /// Before PostgreSQL starts: its copy of the server certificate and key (PostgreSQL
    /// wants the key owned by the user it runs as, mode 0600), `pg_hba.conf` /
    /// `pg_ident.conf`, and the TLS roles (single-user mode). Returns the TLS arguments.
    fn postgres_tls_setup(
        &self,
        bin: &Path,
        root: &Path,
        data: &Path,
        user: Option<(u32, u32)>,
    ) -> Result<Vec<String>, String> {
        fn io(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
            move |e| format!("{}: {e}", path.display())
        }
        let (cert, key, ca) = (
            root.join("server.crt"),
            root.join("server.key"),
            root.join("ca.crt"),
        );
        for (from, to, mode) in [
            (&self.tls.server_cert, &cert, 0o644),
            (&self.tls.server_key, &key, 0o600),
            (&self.tls.ca_cert, &ca, 0o644),
        ] {
            fs::copy(from, to).map_err(io(to))?;
            fs::set_permissions(to, fs::Permissions::from_mode(mode)).map_err(io(to))?;
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(to, Some(uid), Some(gid)).map_err(io(to))?;
            }
        }
        // Rewritten in place: initdb's files keep their owner.
        let hba = data.join("pg_hba.conf");
        fs::write(&hba, pg_hba()).map_err(io(&hba))?;
        let ident = data.join("pg_ident.conf");
        fs::write(&ident, pg_ident()).map_err(io(&ident))?;

        let mut single = Command::new(bin.join("postgres"));
        single
            .args(["--single", "-D"])
            .arg(data)
            .arg("postgres")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = user {
            single.uid(uid).gid(gid);
        }
        let mut child = single
            .spawn()
            .map_err(|e| format!("could not run postgres --single: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(tls_roles_sql().as_bytes())
                .map_err(|e| format!("postgres --single: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("postgres --single: {e}"))?;
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() || output.contains("ERROR:") {
            return Err(format!(
                "creating the TLS roles failed ({}):\n{output}",
                out.status
            ));
        }
        Ok(postgres_tls_args(&cert, &key, &ca))
    }

    /// The variables the tests read.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (REDIS_URL_ENV, redis_url(self.redis_port)),
            (REDIS_TLS_URL_ENV, redis_tls_url(self.redis_tls_port)),
            (
                REDIS_CLUSTER_NODES_ENV,
                redis_cluster_nodes(&self.redis_cluster_ports),
            ),
            (
                REDIS_TLS_CLUSTER_NODES_ENV,
                redis_tls_cluster_nodes(&self.redis_tls_cluster_ports),
            ),
            (POSTGRES_URL_ENV, postgres_url(self.postgres_port)),
            (
                POSTGRES_TLS_URL_ENV,
                postgres_tls_url(TLS_ROLE, self.postgres_port),
            ),
            (
                POSTGRES_CERT_URL_ENV,
                postgres_tls_url(CERT_ROLE, self.postgres_port),
            ),
        ];
        env.extend(self.tls.env());
        env
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for process in self.processes.iter_mut().rev() {
            process.stop();
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("xtask: could not remove {}: {e}", self.dir.display());
        } else {
            eprintln!("xtask: servers stopped, {} removed", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_the_test_contract() {
        assert_eq!(redis_url(6380), "redis://127.0.0.1:6380");
        assert_eq!(
            postgres_url(5433),
            "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable"
        );
        assert_eq!(REDIS_URL_ENV, "LUXCORE_TEST_REDIS_URL");
        assert_eq!(POSTGRES_URL_ENV, "LUXCORE_TEST_POSTGRES_URL");
        assert_eq!(
            postgres_tls_url(TLS_ROLE, 5433),
            "postgres://luxcore_tls@127.0.0.1:5433/postgres?sslmode=verify-full"
        );
        assert_eq!(POSTGRES_TLS_URL_ENV, "LUXCORE_TEST_POSTGRES_TLS_URL");
        assert_eq!(POSTGRES_CERT_URL_ENV, "LUXCORE_TEST_POSTGRES_CERT_URL");
    }

    /// The TLS roles are refused in plaintext, matched before the catch-all trust lines;
    /// the certificate role authenticates by certificate, its CN mapped.
    #[test]
    fn pg_hba_keeps_the_tls_roles_off_plaintext() {
        let hba = pg_hba();
        let rules: Vec<Vec<&str>> = hba
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let first = |kind: &str, user: &str| {
            rules
                .iter()
                .find(|r| (r[0] == kind || r[0] == "host") && (r[2] == user || r[2] == "all"))
                .map(|r| r[4..].join(" "))
        };
        assert_eq!(first("hostnossl", TLS_ROLE).as_deref(), Some("reject"));
        assert_eq!(first("hostssl", TLS_ROLE).as_deref(), Some("trust"));
        assert_eq!(first("hostnossl", CERT_ROLE).as_deref(), Some("reject"));
        assert_eq!(
            first("hostssl", CERT_ROLE).as_deref(),
            Some("cert map=luxcore_test")
        );
        assert_eq!(first("hostnossl", "postgres").as_deref(), Some("trust"));
        assert_eq!(
            pg_ident(),
            format!("luxcore_test {} {CERT_ROLE}\n", test_ca::CLIENT_NAME)
        );
        assert!(tls_roles_sql().contains(&format!("CREATE ROLE {TLS_ROLE} LOGIN")));
        let args = postgres_tls_args(Path::new("/c"), Path::new("/k"), Path::new("/a"));
        assert_eq!(
            args,
            [
                "-c",
                "ssl=on",
                "-c",
                "ssl_cert_file=/c",
                "-c",
                "ssl_key_file=/k",
                "-c",
                "ssl_ca_file=/a"
            ]
        );
    }

    #[test]
    fn redis_tls_and_cluster_are_the_test_contract() {
        assert_eq!(REDIS_TLS_URL_ENV, "LUXCORE_TEST_REDIS_TLS_URL");
        assert_eq!(REDIS_CLUSTER_NODES_ENV, "LUXCORE_TEST_REDIS_CLUSTER_NODES");
        assert_eq!(redis_tls_url(6390), "rediss://127.0.0.1:6390");
        assert_eq!(
            redis_cluster_nodes(&[7001, 7002, 7003]),
            "redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003"
        );
        let ca = TestCa {
            ca_cert: "/t/ca.crt".into(),
            server_cert: "/t/server.crt".into(),
            server_key: "/t/server.key".into(),
            client_cert: "/t/client.crt".into(),
            client_key: "/t/client.key".into(),
        };
        let tls = redis_tls_args(6390, &ca);
        let value = |args: &[String], flag: &str| {
            let at = args.iter().position(|a| a == flag).unwrap();
            args[at + 1].clone()
        };
        assert_eq!(value(&tls, "--tls-port"), "6390");
        assert_eq!(value(&tls, "--tls-cert-file"), "/t/server.crt");
        assert_eq!(value(&tls, "--tls-ca-cert-file"), "/t/ca.crt");
        assert_eq!(value(&tls, "--tls-auth-clients"), "yes");
        let tls_node = redis_tls_cluster_args(7101, Path::new("/d"), &ca);
        assert_eq!(value(&tls_node, "--port"), "0");
        assert_eq!(value(&tls_node, "--tls-port"), "7101");
        assert_eq!(value(&tls_node, "--tls-cluster"), "yes");
        assert_eq!(value(&tls_node, "--tls-auth-clients"), "yes");
        assert_eq!(value(&tls_node, "--tls-client-cert-file"), "/t/client.crt");
        assert_eq!(
            redis_cli_tls_args(&ca).join(" "),
            "--tls --cacert /t/ca.crt --cert /t/client.crt --key /t/client.key"
        );
        assert_eq!(
            redis_tls_cluster_nodes(&[7101, 7102]),
            "rediss://127.0.0.1:7101,rediss://127.0.0.1:7102"
        );
        let node = redis_cluster_args(7001, Path::new("/d"));
        assert_eq!(value(&node, "--cluster-enabled"), "yes");
        assert_eq!(value(&node, "--bind"), "127.0.0.1");
        assert_eq!(value(&node, "--dir"), "/d");
        assert_eq!(
            redis_cluster_create_args(&[7001, 7002, 7003]).join(" "),
            "--cluster create 127.0.0.1:7001 127.0.0.1:7002 127.0.0.1:7003 \
             --cluster-replicas 0 --cluster-yes"
        );
    }

    #[test]
    fn free_port_is_bindable() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    }

    #[test]
    fn servers_listen_on_loopback_only() {
        let redis = redis_args(7000, Path::new("/tmp/x"));
        let bind = redis.iter().position(|a| a == "--bind").unwrap();
        assert_eq!(redis[bind + 1], "127.0.0.1");
        let save = redis.iter().position(|a| a == "--save").unwrap();
        assert_eq!(redis[save + 1], "", "no RDB snapshots");
        let pg = postgres_args(7001, Path::new("/d"), Path::new("/s"));
        let host = pg.iter().position(|a| a == "-h").unwrap();
        assert_eq!(pg[host + 1], "127.0.0.1");
        let port = pg.iter().position(|a| a == "-p").unwrap();
        assert_eq!(pg[port + 1], "7001");
        assert!(initdb_args(Path::new("/d")).contains(&"--auth=trust".to_owned()));
    }

    #[test]
    fn picks_the_newest_complete_postgres() {
        let root = std::env::temp_dir().join(format!("xtask-pgbin-{}", std::process::id()));
        let make = |version: &str, complete: bool| {
            let bin = root.join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            fs::write(bin.join("postgres"), "").unwrap();
            if complete {
                fs::write(bin.join("initdb"), "").unwrap();
            }
            bin
        };
        let candidates = vec![
            make("9.6", true),
            make("15", true),
            make("16", true),
            make("17", false),
        ];
        let picked = newest_postgres_bin(&candidates);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(picked, Some(root.join("16").join("bin")));
        assert_eq!(newest_postgres_bin(&[]), None);
    }

    #[test]
    fn id_output_parses() {
        assert_eq!(parse_id("101\n"), Ok(101));
        assert!(parse_id("postgres").is_err());
    }
}
