//! Interfaces that link but have no backend yet: `fermyon:spin` redis, postgres, mysql, mqtt
//! and llm @2.0.0. A component importing them loads; each call fails with the interface's own
//! error saying that no backend is configured, and nothing else happens.

use kiln_world::v2::{llm, mqtt, mysql, postgres, rdbms_types, redis};
use wasmtime::component::{HasData, Resource};

const NO_BACKEND: &str = "kiln has no backend configured for this interface";

/// The per-instance state of these interfaces: nothing.
pub(crate) struct Unconfigured;

/// `HasData` marker for linking.
pub(crate) struct HasUnconfigured;

impl HasData for HasUnconfigured {
    type Data<'a> = &'a mut Unconfigured;
}

type Rdbms<T> = anyhow::Result<Result<T, rdbms_types::Error>>;
type Redis<T> = anyhow::Result<Result<T, redis::Error>>;

fn rdbms<T>() -> Rdbms<T> {
    Ok(Err(rdbms_types::Error::ConnectionFailed(NO_BACKEND.into())))
}

fn redis_err<T>() -> Redis<T> {
    Ok(Err(redis::Error::Other(NO_BACKEND.into())))
}

impl rdbms_types::Host for Unconfigured {}

/// The relational interfaces differ only in what `execute` returns.
macro_rules! unconfigured_rdbms {
    ($interface:ident, $executed:ty) => {
        impl $interface::Host for Unconfigured {}

        impl $interface::HostConnection for Unconfigured {
            async fn open(&mut self, _address: String) -> Rdbms<Resource<$interface::Connection>> {
                rdbms()
            }
            async fn query(
                &mut self,
                _c: Resource<$interface::Connection>,
                _s: String,
                _p: Vec<rdbms_types::ParameterValue>,
            ) -> Rdbms<rdbms_types::RowSet> {
                rdbms()
            }
            async fn execute(
                &mut self,
                _c: Resource<$interface::Connection>,
                _s: String,
                _p: Vec<rdbms_types::ParameterValue>,
            ) -> Rdbms<$executed> {
                rdbms()
            }
            async fn drop(&mut self, _c: Resource<$interface::Connection>) -> anyhow::Result<()> {
                Ok(())
            }
        }
    };
}

unconfigured_rdbms!(postgres, u64);
unconfigured_rdbms!(mysql, ());

impl redis::Host for Unconfigured {}

impl redis::HostConnection for Unconfigured {
    async fn open(&mut self, _address: String) -> Redis<Resource<redis::Connection>> {
        redis_err()
    }
    async fn publish(
        &mut self,
        _c: Resource<redis::Connection>,
        _channel: String,
        _payload: Vec<u8>,
    ) -> Redis<()> {
        redis_err()
    }
    async fn get(
        &mut self,
        _c: Resource<redis::Connection>,
        _key: String,
    ) -> Redis<Option<Vec<u8>>> {
        redis_err()
    }
    async fn set(
        &mut self,
        _c: Resource<redis::Connection>,
        _key: String,
        _value: Vec<u8>,
    ) -> Redis<()> {
        redis_err()
    }
    async fn incr(&mut self, _c: Resource<redis::Connection>, _key: String) -> Redis<i64> {
        redis_err()
    }
    async fn del(&mut self, _c: Resource<redis::Connection>, _keys: Vec<String>) -> Redis<u32> {
        redis_err()
    }
    async fn sadd(
        &mut self,
        _c: Resource<redis::Connection>,
        _key: String,
        _values: Vec<String>,
    ) -> Redis<u32> {
        redis_err()
    }
    async fn smembers(
        &mut self,
        _c: Resource<redis::Connection>,
        _key: String,
    ) -> Redis<Vec<String>> {
        redis_err()
    }
    async fn srem(
        &mut self,
        _c: Resource<redis::Connection>,
        _key: String,
        _values: Vec<String>,
    ) -> Redis<u32> {
        redis_err()
    }
    async fn execute(
        &mut self,
        _c: Resource<redis::Connection>,
        _command: String,
        _args: Vec<redis::RedisParameter>,
    ) -> Redis<Vec<redis::RedisResult>> {
        redis_err()
    }
    async fn drop(&mut self, _c: Resource<redis::Connection>) -> anyhow::Result<()> {
        Ok(())
    }
}

impl mqtt::Host for Unconfigured {}

impl mqtt::HostConnection for Unconfigured {
    async fn open(
        &mut self,
        _address: String,
        _user: String,
        _password: String,
        _keep_alive: u64,
    ) -> anyhow::Result<Result<Resource<mqtt::Connection>, mqtt::Error>> {
        Ok(Err(mqtt::Error::ConnectionFailed(NO_BACKEND.into())))
    }
    async fn publish(
        &mut self,
        _c: Resource<mqtt::Connection>,
        _topic: String,
        _payload: Vec<u8>,
        _qos: mqtt::Qos,
    ) -> anyhow::Result<Result<(), mqtt::Error>> {
        Ok(Err(mqtt::Error::ConnectionFailed(NO_BACKEND.into())))
    }
    async fn drop(&mut self, _c: Resource<mqtt::Connection>) -> anyhow::Result<()> {
        Ok(())
    }
}

impl llm::Host for Unconfigured {
    async fn infer(
        &mut self,
        _model: String,
        _prompt: String,
        _params: Option<llm::InferencingParams>,
    ) -> anyhow::Result<Result<llm::InferencingResult, llm::Error>> {
        Ok(Err(llm::Error::RuntimeError(NO_BACKEND.into())))
    }
    async fn generate_embeddings(
        &mut self,
        _model: String,
        _text: Vec<String>,
    ) -> anyhow::Result<Result<llm::EmbeddingsResult, llm::Error>> {
        Ok(Err(llm::Error::RuntimeError(NO_BACKEND.into())))
    }
}
