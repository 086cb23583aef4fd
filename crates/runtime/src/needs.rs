//! Which part of a component's manifest entry each interface it may import needs: the one table
//! `kiln inspect` judges imports by, and that decides what a dependency which does not inherit
//! its component's configuration is denied ([`crate::deny`]).

/// The manifest field that grants an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `environment`.
    Environment,
    /// `files`.
    Files,
    /// `allowed_outbound_hosts` entries with one of these schemes (or `*`).
    Outbound(&'static [&'static str]),
    /// `key_value_stores`.
    KeyValueStores,
    /// `sqlite_databases`.
    SqliteDatabases,
    /// The component's `variables`.
    Variables,
    /// `ai_models`.
    AiModels,
}

/// What an import needs of its component's manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The field that grants it.
    pub grant: Grant,
    /// Whether it hands out access (opens, connects, lists): what a dependency that does not
    /// inherit its component's configuration gets a deny-all stand-in for. The other
    /// interfaces of the same package carry types, or work on what these hand out.
    pub hands_out: bool,
}

const HTTP: Grant = Grant::Outbound(&["http", "https"]);
const SOCKETS: Grant = Grant::Outbound(&["tcp", "udp"]);
const REDIS: Grant = Grant::Outbound(&["redis", "rediss"]);
const POSTGRES: Grant = Grant::Outbound(&["postgres"]);
const MYSQL: Grant = Grant::Outbound(&["mysql"]);
const MQTT: Grant = Grant::Outbound(&["mqtt", "mqtts"]);

/// Package, interface (`*`: the package's others), grant, whether it hands out access. The
/// first entry that matches an import is its.
const INTERFACES: &[(&str, &str, Grant, bool)] = &[
    ("wasi:cli", "environment", Grant::Environment, true),
    ("wasi:filesystem", "preopens", Grant::Files, true),
    ("wasi:filesystem", "*", Grant::Files, false),
    ("wasi:sockets", "ip-name-lookup", SOCKETS, true),
    ("wasi:sockets", "tcp-create-socket", SOCKETS, true),
    ("wasi:sockets", "udp-create-socket", SOCKETS, true),
    // WASI 0.3 creates sockets in `types`.
    ("wasi:sockets", "types", SOCKETS, true),
    ("wasi:sockets", "*", SOCKETS, false),
    ("wasi:http", "outgoing-handler", HTTP, true),
    ("wasi:http", "client", HTTP, true),
    ("fermyon:spin", "http", HTTP, true),
    ("wasi:keyvalue", "store", Grant::KeyValueStores, true),
    ("wasi:keyvalue", "*", Grant::KeyValueStores, false),
    ("fermyon:spin", "key-value", Grant::KeyValueStores, true),
    ("spin:key-value", "*", Grant::KeyValueStores, true),
    ("fermyon:spin", "sqlite", Grant::SqliteDatabases, true),
    ("spin:sqlite", "*", Grant::SqliteDatabases, true),
    ("fermyon:spin", "redis", REDIS, true),
    ("spin:redis", "redis", REDIS, true),
    ("fermyon:spin", "postgres", POSTGRES, true),
    ("spin:postgres", "*", POSTGRES, true),
    ("fermyon:spin", "mysql", MYSQL, true),
    ("spin:mysql", "*", MYSQL, true),
    ("fermyon:spin", "mqtt", MQTT, true),
    ("spin:mqtt", "*", MQTT, true),
    ("fermyon:spin", "llm", Grant::AiModels, true),
    ("spin:llm", "*", Grant::AiModels, true),
    ("fermyon:spin", "variables", Grant::Variables, true),
    ("fermyon:spin", "config", Grant::Variables, true),
    ("spin:variables", "*", Grant::Variables, true),
    ("wasi:config", "*", Grant::Variables, true),
];

/// What the import `name` (`ns:pkg/iface@version`) needs; `None` for what needs no grant.
pub fn need(name: &str) -> Option<Need> {
    let unversioned = name.split('@').next().unwrap_or(name);
    let (package, interface) = unversioned.split_once('/')?;
    INTERFACES
        .iter()
        .find(|(p, i, _, _)| *p == package && (*i == interface || *i == "*"))
        .map(|&(_, _, grant, hands_out)| Need { grant, hands_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_are_known_by_name_whatever_their_version() {
        let hands_out = |name: &str| need(name).is_some_and(|n| n.hands_out);
        assert!(hands_out("wasi:http/outgoing-handler@0.2.6"));
        assert!(hands_out("fermyon:spin/key-value@2.0.0"));
        assert!(hands_out("fermyon:spin/config"));
        assert!(hands_out("wasi:filesystem/preopens@0.2.0"));
        assert_eq!(
            need("wasi:filesystem/types@0.2.0"),
            Some(Need {
                grant: Grant::Files,
                hands_out: false
            })
        );
        assert_eq!(need("wasi:http/types@0.2.6"), None);
        assert_eq!(need("wasi:io/streams@0.2.6"), None);
        assert_eq!(need("kiln-test:greet/greeter@0.1.0"), None);
        assert_eq!(need("plain-name"), None);
    }
}
