//! [`Lattice`]: a connection to NATS and the lattice's JetStream key-value buckets, named
//! after the lattice so that several share one NATS:
//!
//! | bucket | key | value |
//! |---|---|---|
//! | `kiln_LATTICE_deployments` | deployment name | [`Deployment`] (desired state) |
//! | `kiln_LATTICE_placements` | deployment name | [`Placement`] (the reconciler's decision) |
//! | `kiln_LATTICE_hosts` | host name | [`HostReport`] (a heartbeat; a silent host's key ages out) |
//! | `kiln_LATTICE_lease` | `reconciler` | the name of the host that reconciles |
//!
//! Every write that could race (placements, the lease) is a compare-and-set on the key's
//! revision, so two writers never both succeed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, kv};
use kiln_state::{open_bucket, BucketSettings};

use crate::bucket::{entries, Entries};
use crate::deployment::Deployment;
use crate::placement::Placement;
use crate::report::HostReport;

/// How long the reconciler's lease lasts unless renewed (the lease bucket's max age).
const LEASE_TTL: Duration = Duration::from_secs(3);
/// How long a host's heartbeat is kept after its last beat (the hosts bucket's max age).
const HOST_RECORD_TTL: Duration = Duration::from_secs(30);
/// The lease's key.
const LEASE_KEY: &str = "reconciler";

/// How to reach NATS: its URL (`nats://`, or `tls://` for TLS) and credentials, as async-nats
/// takes them.
#[derive(Debug, Clone, Default)]
pub struct NatsOptions {
    /// `nats://HOST:PORT` (several, comma-separated, for a cluster).
    pub url: String,
    /// A `.creds` file (JWT and nkey seed).
    pub credentials_file: Option<PathBuf>,
    /// A token.
    pub token: Option<String>,
    /// A user and password.
    pub user: Option<(String, String)>,
    /// An nkey seed (`SU...`).
    pub nkey: Option<String>,
    /// A CA certificate (PEM) to trust for `tls://` servers.
    pub tls_ca: Option<PathBuf>,
}

impl NatsOptions {
    /// Connects (a NATS that is down is an error; once connected, the client reconnects
    /// whenever the connection drops).
    pub async fn connect(&self) -> anyhow::Result<async_nats::Client> {
        let mut options = async_nats::ConnectOptions::new()
            .name("kiln")
            .connection_timeout(Duration::from_secs(2))
            .max_reconnects(None);
        if let Some(path) = &self.credentials_file {
            options = options
                .credentials_file(path)
                .await
                .with_context(|| format!("reading the NATS credentials {}", path.display()))?;
        }
        if let Some(token) = &self.token {
            options = options.token(token.clone());
        }
        if let Some((user, password)) = &self.user {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(seed) = &self.nkey {
            options = options.nkey(seed.clone());
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        options.connect(&self.url).await.with_context(|| {
            format!(
                "cannot connect to NATS at {}: is nats-server running (with -js), and are the credentials right?",
                self.url
            )
        })
    }
}

/// One lattice's buckets, on the NATS connection it was opened with.
#[derive(Clone)]
pub struct Lattice {
    name: String,
    deployments: kv::Store,
    placements: kv::Store,
    hosts: kv::Store,
    lease: kv::Store,
}

impl Lattice {
    /// Opens the lattice `name` (creating its buckets if this is its first use).
    pub async fn open(client: async_nats::Client, name: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "\"{name}\" is not a lattice name: use letters, digits, `-` and `_`"
        );
        let js = jetstream::new(client);
        let open = |what: &str, max_age: Duration, history: i64| {
            let settings = BucketSettings {
                name: format!("kiln_{name}_{what}"),
                history,
                max_age,
            };
            let js = js.clone();
            async move {
                open_bucket(&js, &settings).await.with_context(|| {
                    format!("cannot open the JetStream key-value bucket {}: is JetStream on (nats-server -js)?", settings.name)
                })
            }
        };
        Ok(Self {
            name: name.to_string(),
            deployments: open("deployments", Duration::ZERO, 5).await?,
            placements: open("placements", Duration::ZERO, 1).await?,
            hosts: open("hosts", HOST_RECORD_TTL, 1).await?,
            lease: open("lease", LEASE_TTL, 1).await?,
        })
    }

    /// The lattice's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every deployment with its revision; entries that do not read as one are returned as
    /// errors by key, so that one bad entry does not hide the others.
    pub async fn deployments(&self) -> anyhow::Result<Entries<Deployment>> {
        entries(&self.deployments).await
    }

    /// Stores `deployment` (replacing one of the same name); its new revision.
    pub async fn put_deployment(&self, deployment: &Deployment) -> anyhow::Result<u64> {
        let json = serde_json::to_vec(deployment)?;
        self.deployments
            .put(&deployment.name, json.into())
            .await
            .with_context(|| format!("storing the deployment {}", deployment.name))
    }

    /// Removes the deployment `name`; whether there was one.
    pub async fn delete_deployment(&self, name: &str) -> anyhow::Result<bool> {
        let existed = self.deployments.get(name).await?.is_some();
        if existed {
            self.deployments.delete(name).await?;
        }
        Ok(existed)
    }

    /// Every placement with its revision.
    pub async fn placements(&self) -> anyhow::Result<Entries<Placement>> {
        entries(&self.placements).await
    }

    /// Writes the placement of `name` if its revision is still `revision` (`None`: there is
    /// none yet); whether it was written.
    pub async fn write_placement(
        &self,
        name: &str,
        placement: &Placement,
        revision: Option<u64>,
    ) -> anyhow::Result<bool> {
        let json = serde_json::to_vec(placement)?;
        let written = match revision {
            Some(revision) => self
                .placements
                .update(name, json.into(), revision)
                .await
                .is_ok(),
            None => self.placements.create(name, json.into()).await.is_ok(),
        };
        Ok(written)
    }

    /// Removes the placement of `name` if its revision is still `revision`.
    pub async fn delete_placement(&self, name: &str, revision: u64) -> anyhow::Result<()> {
        self.placements
            .delete_expect_revision(name, Some(revision))
            .await?;
        Ok(())
    }

    /// Every host's last heartbeat, with its revision and the time NATS stored it.
    pub async fn hosts(&self) -> anyhow::Result<Entries<HostReport>> {
        entries(&self.hosts).await
    }

    /// Stores a heartbeat.
    pub async fn beat(&self, report: &HostReport) -> anyhow::Result<()> {
        self.hosts
            .put(&report.name, serde_json::to_vec(report)?.into())
            .await?;
        Ok(())
    }

    /// Removes a host's heartbeat (it is leaving).
    pub async fn leave(&self, host: &str) -> anyhow::Result<()> {
        self.hosts.delete(host).await?;
        Ok(())
    }

    /// Takes or renews the reconciler's lease for `holder`; the lease's revision if `holder`
    /// holds it now. `held` is the revision of the lease `holder` held until now.
    pub async fn lead(&self, holder: &str, held: Option<u64>) -> anyhow::Result<Option<u64>> {
        let value = bytes::Bytes::from(holder.to_string());
        if let Some(revision) = held {
            return Ok(self.lease.update(LEASE_KEY, value, revision).await.ok());
        }
        if let Ok(revision) = self.lease.create(LEASE_KEY, value.clone()).await {
            return Ok(Some(revision));
        }
        // A lease left by this holder before a restart of NATS or of the connection.
        match self.lease.entry(LEASE_KEY).await? {
            Some(entry) if entry.operation == kv::Operation::Put && entry.value == value => {
                Ok(self
                    .lease
                    .update(LEASE_KEY, value, entry.revision)
                    .await
                    .ok())
            }
            _ => Ok(None),
        }
    }

    /// Who holds the reconciler's lease, if anyone.
    pub async fn leader(&self) -> anyhow::Result<Option<String>> {
        Ok(match self.lease.entry(LEASE_KEY).await? {
            Some(entry) if entry.operation == kv::Operation::Put => {
                Some(String::from_utf8_lossy(&entry.value).into_owned())
            }
            _ => None,
        })
    }

    /// Gives the lease up (the holder is stopping), if `holder` still holds it at `revision`.
    pub async fn resign(&self, revision: u64) -> anyhow::Result<()> {
        self.lease
            .delete_expect_revision(LEASE_KEY, Some(revision))
            .await?;
        Ok(())
    }
}
