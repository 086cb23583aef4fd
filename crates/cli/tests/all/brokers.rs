//! Servers of a test's own (NATS, Mosquitto, an OCI registry) on free local ports, so that a
//! test may stop, restart or configure one without disturbing the shared servers other tests
//! use.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A broker process on a port of its own, killed when dropped.
pub(crate) struct Broker {
    program: String,
    args: Vec<String>,
    /// The port it listens on, on 127.0.0.1.
    pub(crate) port: u16,
    child: Option<Child>,
    /// Its configuration files and data, if it has any.
    dir: Option<tempfile::TempDir>,
    /// The user and group it runs as, when not the test's own.
    owner: Option<(u32, u32)>,
}

impl Broker {
    /// A NATS server (`nats-server`).
    pub(crate) fn nats() -> Self {
        let port = free_port();
        let args = ["-a", "127.0.0.1", "-p", &port.to_string()].map(String::from);
        Self::start("nats-server", args.to_vec(), port)
    }

    /// A NATS server with JetStream, storing under [`Broker::dir`] (so a restart keeps its
    /// streams and key-value buckets); with `account`, only that user and password get in.
    pub(crate) fn nats_jetstream(account: Option<(&str, &str)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let store = dir.path().display().to_string();
        let mut args: Vec<String> = [
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-js",
            "-sd",
            &store,
        ]
        .map(String::from)
        .to_vec();
        if let Some((user, password)) = account {
            args.extend(["--user", user, "--pass", password].map(String::from));
        }
        let mut broker = Self::start("nats-server", args, port);
        broker.dir = Some(dir);
        broker
    }

    /// A NATS server that admits only `user` with `password`.
    pub(crate) fn nats_protected(user: &str, password: &str) -> Self {
        let port = free_port();
        let args = [
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--user",
            user,
            "--pass",
            password,
        ];
        Self::start("nats-server", args.map(String::from).to_vec(), port)
    }

    /// A Mosquitto MQTT broker (`mosquitto`) that admits anyone.
    pub(crate) fn mosquitto() -> Self {
        let port = free_port();
        Self::start("mosquitto", vec!["-p".into(), port.to_string()], port)
    }

    /// A Mosquitto MQTT broker that admits only `user` with `password`.
    pub(crate) fn mosquitto_protected(user: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let passwords = dir.path().join("passwords");
        let status = Command::new("mosquitto_passwd")
            .arg("-b")
            .arg("-c")
            .arg(&passwords)
            .args([user, password])
            .status()
            .expect("mosquitto_passwd (scripts/services.sh installs mosquitto)");
        assert!(status.success());
        let port = free_port();
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
                passwords.display()
            ),
        )
        .unwrap();
        let args = vec!["-c".into(), config.display().to_string()];
        let mut broker = Self::start("mosquitto", args, port);
        broker.dir = Some(dir);
        broker
    }

    /// A Mosquitto MQTT broker that speaks TLS on [`Broker::port`] (a certificate for
    /// `localhost` and 127.0.0.1, signed by the test CA at [`Broker::dir`]`/ca.pem`) and plain
    /// MQTT on the port returned beside it; anyone may connect.
    pub(crate) fn mosquitto_tls() -> (Self, u16) {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let (ca, cert, key) = test_certificates(dir.path());
        // Mosquitto started as root reads its key as the mosquitto user; this key is the test's.
        use std::os::unix::fs::PermissionsExt as _;
        for (file, mode) in [
            (dir.path().to_path_buf(), 0o755),
            (key.clone().into(), 0o644),
        ] {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let (port, plain) = (free_port(), free_port());
        let config = path("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "per_listener_settings false\nallow_anonymous true\nlistener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\nlistener {plain} 127.0.0.1\n"
            ),
        )
        .unwrap();
        let mut broker = Self::start("mosquitto", vec!["-c".into(), config], port);
        broker.dir = Some(dir);
        (broker, plain)
    }

    /// A PostgreSQL server of the test's own (Debian's binaries, run as the postgres user,
    /// trusting every local connection) with TLS on: its certificate, for `localhost` and
    /// 127.0.0.1, is signed by the test CA at [`Broker::dir`]`/ca.pem`.
    pub(crate) fn postgres_tls() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (_, cert, key) = test_certificates(dir.path());
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries (scripts/services.sh installs postgresql)")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let id = |flag: &str| -> u32 {
            let output = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .expect("a postgres user")
        };
        let owner = (id("-u"), id("-g"));
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let data = dir.path().join("data").display().to_string();
        let initdb = Command::new(bin.join("initdb"))
            .args(["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .uid(owner.0)
            .gid(owner.1)
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = free_port();
        let socket_dir = dir.path().display().to_string();
        let args = [
            "-D",
            &data,
            "-p",
            &port.to_string(),
            "-k",
            &socket_dir,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "ssl=on",
            "-c",
            &format!("ssl_cert_file={cert}"),
            "-c",
            &format!("ssl_key_file={key}"),
            "-c",
            "fsync=off",
        ];
        let program = bin.join("postgres").display().to_string();
        let mut broker = Self {
            program,
            args: args.map(String::from).to_vec(),
            port,
            child: None,
            dir: Some(dir),
            owner: Some(owner),
        };
        broker.restart();
        broker
    }

    /// A Distribution registry (Debian's `docker-registry`) anyone may push to, storing under
    /// [`Broker::dir`]`/data`.
    pub(crate) fn registry() -> Self {
        Self::registry_with("", &[])
    }

    /// A registry only `user` with `password` may use (htpasswd accounts).
    pub(crate) fn registry_with_account(user: &str, password: &str) -> Self {
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd (scripts/services.sh installs apache2-utils)");
        let auth = "auth:\n  htpasswd:\n    realm: kiln-test\n    path: {dir}/htpasswd\n";
        Self::registry_with(auth, &[("htpasswd", &htpasswd.stdout)])
    }

    /// A registry with `extra` (YAML, where `{dir}` is its directory) added to its config, and
    /// `files` written to its directory first.
    fn registry_with(extra: &str, files: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let port = free_port();
        let config = dir.path().join("config.yml");
        let root = dir.path().display().to_string();
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n{}",
                extra.replace("{dir}", &root)
            ),
        )
        .unwrap();
        let args = vec!["serve".into(), config.display().to_string()];
        let mut broker = Self::start("docker-registry", args, port);
        broker.dir = Some(dir);
        broker
    }

    /// Its configuration and data directory.
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("a broker with files").path()
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn start(program: &str, args: Vec<String>, port: u16) -> Self {
        let mut broker = Self {
            program: program.to_string(),
            args,
            port,
            child: None,
            dir: None,
            owner: None,
        };
        broker.restart();
        broker
    }

    /// `SCHEME://127.0.0.1:PORT`.
    pub(crate) fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Kills the broker (its clients see the connection drop).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port, and waits until it listens.
    pub(crate) fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(&self.program);
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        let child = command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting {}: {e} (scripts/services.sh installs it)",
                    self.program
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {}",
                self.program,
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A test CA and a certificate it signed for `localhost` and 127.0.0.1, made by openssl in
/// `dir`: the paths of the CA certificate, the server certificate and its key.
fn test_certificates(dir: &std::path::Path) -> (String, String, String) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let (ca, ca_key) = (path("ca.pem"), path("ca.key"));
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                &ca_key,
                "-out",
                &ca,
                "-days",
                "2",
                "-subj",
                "/CN=kiln test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    let (key, csr, cert) = (path("server.key"), path("server.csr"), path("server.pem"));
    openssl(
        &[
            &["req"][..],
            &ec,
            &["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"],
        ]
        .concat(),
    );
    let extensions = path("server.ext");
    std::fs::write(
            &extensions,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &cert,
        "-days",
        "2",
        "-extfile",
        &extensions,
    ]);
    (ca, cert, key)
}
