//! Test harness: a scratch directory with a config file, a database (SQLite file or a
//! fresh MariaDB database), and helpers to run the real `centinela` binary.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Which database a test environment uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Mysql,
}

/// The MariaDB server the suite uses (see README: root, empty password).
pub fn mysql_base_url() -> String {
    "mysql://root@127.0.0.1:3306".to_owned()
}

/// The access policy of `examples/customers/centinela.toml` (everything from its
/// policy marker on), so the tests exercise the example users are told to start from.
pub fn example_policy() -> &'static str {
    const EXAMPLE: &str = include_str!("../../../../examples/customers/centinela.toml");
    EXAMPLE
        .find("# ---- access policy")
        .map_or(EXAMPLE, |i| &EXAMPLE[i..])
}

/// A free TCP port on 127.0.0.1 (bound then released), never one this test process
/// has handed out before: tests run in parallel, and the kernel may offer a port again
/// once its probe socket is closed, before the first test's server has bound it.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: Db,
    /// The URL the config file names (tests may point it through a relay).
    pub db_url: String,
    pub mysql_name: Option<String>,
    pub https_port: u16,
    pub upstream_port: u16,
}

impl Env {
    pub fn new(db: Db) -> Self {
        Self::with_extra(db, "")
    }

    /// A new environment; `extra` is appended to the generated config file.
    pub fn with_extra(db: Db, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db_url, mysql_name) = match db {
            Db::Sqlite => (
                format!("sqlite://{}/centinela.db", dir.path().display()),
                None,
            ),
            Db::Mysql => {
                let name = format!("centinela_cli_{:016x}", rand::random::<u64>());
                let base = mysql_base_url();
                mysql_admin(&format!("CREATE DATABASE {name}"));
                (format!("{base}/{name}"), Some(name))
            }
        };
        let env = Self {
            dir,
            db,
            db_url,
            mysql_name,
            https_port: free_port(),
            upstream_port: free_port(),
        };
        env.write_config(extra);
        env
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("centinela.toml")
    }

    /// Another instance of the same deployment: its own directory, ports and demo
    /// upstream, the same database and (once the first instance has one) the same
    /// master key. The database is dropped with the first environment only.
    pub fn sibling(&self, extra: &str) -> Self {
        let env = Self {
            dir: tempfile::tempdir().expect("tempdir"),
            db: self.db,
            db_url: self.db_url.clone(),
            mysql_name: None,
            https_port: free_port(),
            upstream_port: free_port(),
        };
        env.write_config(extra);
        let key = self.path().join("master.key");
        if key.exists() {
            std::fs::copy(&key, env.path().join("master.key")).expect("copy the master key");
        }
        env
    }

    /// (Re)writes the config file; `extra` is appended.
    pub fn write_config(&self, extra: &str) {
        let d = self.path().display();
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:{https}\"\ndata_dir = \"{d}\"\n\n\
             [database]\nurl = \"{url}\"\n\n\
             [keys]\nmaster_key_file = \"{d}/master.key\"\n\n\
             [[upstream]]\nname = \"demo\"\nurl = \"http://127.0.0.1:{up}\"\n\n{extra}\n{policy}",
            https = self.https_port,
            url = self.db_url,
            up = self.upstream_port,
            policy = example_policy(),
        );
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// Adds `key = value` lines (newline-terminated) to the `[server]` table of the
    /// config file.
    pub fn add_server_keys(&self, lines: &str) {
        let text = std::fs::read_to_string(self.config_path()).expect("config");
        let text = text.replacen("[server]\n", &format!("[server]\n{lines}"), 1);
        std::fs::write(self.config_path(), text).expect("config");
    }

    /// A `centinela` command with `--config` set.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_centinela"));
        c.args(args)
            .arg("--config")
            .arg(self.config_path())
            .current_dir(self.path())
            .env_remove("CENTINELA_MASTER_KEY")
            .env_remove("CENTINELA_DATABASE_URL")
            .env_remove("CENTINELA_CONFIG")
            .env("RUST_LOG", "info");
        c
    }

    /// Runs a command with `stdin` piped in, returning its output.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn centinela");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "centinela {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates a user with a password (from stdin).
    pub fn add_user(&self, name: &str, password: &str, extra: &[&str]) {
        let mut args = vec!["user", "add", name];
        args.extend_from_slice(extra);
        self.ok(&args, &format!("{password}\n"));
    }

    /// Starts `centinela serve` and the demo upstream, waiting until both listen.
    pub fn start_server(&self) -> Server {
        self.start_server_with(&[], self.https_port)
    }

    /// Starts `serve` with extra arguments; `https_port` is where it will listen
    /// (the config's, unless the arguments say `--listen`).
    pub fn start_server_with(&self, args: &[&str], https_port: u16) -> Server {
        let upstream = Command::new(env!("CARGO_BIN_EXE_centinela"))
            .args(["demo-upstream", "--listen"])
            .arg(format!("127.0.0.1:{}", self.upstream_port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo upstream");
        wait_for_port(self.upstream_port);
        let log = std::fs::File::create(self.path().join("server.log")).expect("log file");
        let mut serve = vec!["serve"];
        serve.extend_from_slice(args);
        let gateway = self
            .cmd(&serve)
            .stdout(log.try_clone().expect("clone"))
            .stderr(log)
            .spawn()
            .expect("spawn serve");
        let mut server = Server {
            gateway,
            upstream,
            port: https_port,
            log: self.path().join("server.log"),
        };
        let gateway = &mut server.gateway;
        let exited = || matches!(gateway.try_wait(), Ok(Some(_)));
        if !try_wait_for_port(https_port, Duration::from_secs(30), exited) {
            let _ = server.gateway.kill();
            panic!("gateway did not start:\n{}", server.log_text());
        }
        server
    }

    /// Reads raw table contents for at-rest checks (every column, as text/bytes).
    pub fn dump_database(&self) -> Vec<u8> {
        match self.db {
            Db::Sqlite => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(self.path()).expect("dir").flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with("centinela.db") {
                        all.extend(std::fs::read(entry.path()).expect("read db"));
                    }
                }
                all
            }
            Db::Mysql => {
                let out = Command::new("mysqldump")
                    .args([
                        "--protocol=tcp",
                        "-h127.0.0.1",
                        "-uroot",
                        "--skip-extended-insert",
                    ])
                    .arg(self.mysql_name.as_deref().expect("db name"))
                    .output()
                    .expect("run mysqldump");
                assert!(out.status.success(), "mysqldump failed");
                out.stdout
            }
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(name) = &self.mysql_name {
            mysql_admin(&format!("DROP DATABASE IF EXISTS {name}"));
        }
    }
}

/// Runs one administrative statement with the `mysql` client (database names cannot be
/// bound as parameters; they are generated by the harness).
pub fn mysql_admin(statement: &str) {
    let out = Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-e", statement])
        .output()
        .expect("run the mysql client");
    assert!(
        out.status.success(),
        "MariaDB at 127.0.0.1:3306 refused {statement:?} (is it running? see .ci/run): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether something listens on `port`. A connection to oneself does not count: when
/// nothing listens yet, the kernel may pick `port` itself as the probe's source port,
/// and the two ends meet in a simultaneous open.
fn listens(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port))
        .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
}

/// Waits up to `limit` for `port` to listen; gives up early once `exited` says the
/// process meant to listen there is gone.
fn try_wait_for_port(port: u16, limit: Duration, mut exited: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if listens(port) {
            return true;
        }
        if exited() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn wait_for_port(port: u16) {
    assert!(
        try_wait_for_port(port, Duration::from_secs(20), || false),
        "nothing listens on {port}"
    );
}

/// A running gateway and demo upstream, killed on drop.
#[derive(Debug)]
pub struct Server {
    pub gateway: Child,
    pub upstream: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.gateway.kill();
        let _ = self.upstream.kill();
        let _ = self.gateway.wait();
        let _ = self.upstream.wait();
    }
}

/// A TCP relay in front of a server, which a test can cut (every open connection is
/// shut and new ones are dropped) and restore: a database that goes away and comes
/// back, without touching the real server other tests share.
#[derive(Debug)]
pub struct Relay {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    pub fn start(target_port: u16) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay bind");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let (o, c) = (Arc::clone(&open), Arc::clone(&conns));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !o.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let pair = [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ];
                if let Ok(mut list) = c.lock() {
                    list.extend([client, server]);
                }
                for (from, to) in pair {
                    if let (Ok(mut from), Ok(mut to)) = (from, to) {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            }
        });
        Self { port, open, conns }
    }

    /// Shuts every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut list) = self.conns.lock() {
            for s in list.drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// Relays new connections again.
    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A fresh self-signed end-entity certificate (P-256) for `san` (`DNS:localhost`,
/// `IP:127.0.0.1`), written as `NAME.pem` and `NAME-key.pem` in `dir`.
pub fn self_signed_cert(dir: &Path, name: &str, san: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    let cn = san.split_once(':').map_or(san, |(_, v)| v);
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={cn}")])
        .args(["-addext", &format!("subjectAltName={san}")])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// A running nginx (Debian's), stopped when dropped.
#[derive(Debug)]
pub struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts nginx with its files under `dir` and `http` inside its `http {}` block
/// (server blocks, shared directives), then waits for each of `ports`.
pub fn start_nginx(dir: &Path, http: &str, ports: &[u16]) -> Nginx {
    std::fs::create_dir_all(dir.join("tmp")).expect("nginx dir");
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
         {http}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run nginx (install it: apt-get install nginx)");
    let nginx = Nginx(child);
    for p in ports {
        wait_for_port(*p);
    }
    nginx
}
