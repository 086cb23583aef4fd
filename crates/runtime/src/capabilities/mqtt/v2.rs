//! `fermyon:spin/mqtt@2.0.0` (Spin SDKs 2 to 5).

use kiln_world::v2::mqtt::{self, Connection, Error, Qos};
use wasmtime::component::Resource;

use super::{qos, MqttInstance};

type Outcome<T> = anyhow::Result<Result<T, Error>>;

impl mqtt::Host for MqttInstance {}

impl mqtt::HostConnection for MqttInstance {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> Outcome<Resource<Connection>> {
        let pool = match self.admit(&address) {
            Ok(pool) => pool,
            Err(reason) => return Ok(Err(Error::ConnectionFailed(reason))),
        };
        let key = (address, username, password, keep_alive_interval_in_secs);
        let session = match pool.connect(key).await {
            Ok(session) => session,
            Err(reason) => return Ok(Err(Error::ConnectionFailed(reason))),
        };
        Ok(match self.open.insert(session) {
            Some(rep) => Ok(Resource::new_own(rep)),
            None => Err(Error::TooManyConnections),
        })
    }

    async fn publish(
        &mut self,
        c: Resource<Connection>,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
    ) -> Outcome<()> {
        let session = match self.session(c.rep()) {
            Ok(session) => session,
            Err(reason) => return Ok(Err(Error::Other(reason))),
        };
        Ok(session
            .publish(topic, payload, qos!(mqtt, qos))
            .await
            .map_err(Error::Other))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}
