//! What the capabilities that talk to outside servers (Redis, MQTT, PostgreSQL, MySQL) share: an
//! app-wide connection pool, and a component's outbound grant to check addresses against.

use std::sync::Arc;

use super::capability::ComponentContext;
use crate::grants::Grants;
use crate::network::address_allowed;

/// What one component may reach of one kind of server: the app's pool, behind its grants.
pub(crate) struct ServerAccess<P> {
    /// The app's connections, shared by all its components.
    pub(crate) pool: P,
    grants: Arc<Grants>,
}

impl<P: Clone> ServerAccess<P> {
    /// `component`'s access to the servers `pool` connects to.
    pub(crate) fn new(pool: &P, component: &ComponentContext<'_>) -> Self {
        Self {
            pool: pool.clone(),
            grants: component.grants.clone(),
        }
    }

    /// Whether the component may connect to `address`, a URL with one of `schemes`.
    pub(crate) fn allows(&self, address: &str, schemes: &[&str]) -> bool {
        address_allowed(&self.grants.outbound, address, schemes)
    }
}
