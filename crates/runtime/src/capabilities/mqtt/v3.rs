//! `spin:mqtt/mqtt@3.0.0` (Spin SDK 7): the same calls as async functions.

use kiln_world::v3::mqtt::{self, Connection, Error, Qos};
use wasmtime::component::{Accessor, Resource};

use super::{qos, HasMqtt, MqttInstance};

type Outcome<T> = anyhow::Result<Result<T, Error>>;

impl mqtt::Host for MqttInstance {}

impl mqtt::HostConnection for MqttInstance {
    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}

impl<T> mqtt::HostConnectionWithStore<T> for HasMqtt {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> Outcome<Resource<Connection>> {
        let pool = match accessor.with(|mut access| access.get().admit(&address)) {
            Ok(pool) => pool,
            Err(reason) => return Ok(Err(Error::ConnectionFailed(reason))),
        };
        let key = (address, username, password, keep_alive_interval_in_secs);
        let session = match pool.connect(key).await {
            Ok(session) => session,
            Err(reason) => return Ok(Err(Error::ConnectionFailed(reason))),
        };
        let inserted = accessor.with(|mut access| access.get().open.insert(session));
        Ok(match inserted {
            Some(rep) => Ok(Resource::new_own(rep)),
            None => Err(Error::TooManyConnections),
        })
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
    ) -> Outcome<()> {
        let session = match accessor.with(|mut access| access.get().session(c.rep())) {
            Ok(session) => session,
            Err(reason) => return Ok(Err(Error::Other(reason))),
        };
        Ok(session
            .publish(topic, payload, qos!(mqtt, qos))
            .await
            .map_err(Error::Other))
    }
}
