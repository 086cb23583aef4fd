//! `fermyon:spin/redis@2.0.0` (Spin SDKs 2 to 5): every call blocks the guest until Redis
//! answers.

use kiln_world::v2::redis::{self, Connection, Error, RedisParameter, RedisResult};
use wasmtime::component::Resource;

use super::commands::{self, Failure, Param, Reply};
use super::{conversions, RedisInstance};

conversions!(redis);

type Outcome<T> = anyhow::Result<Result<T, Error>>;

/// Runs `command` on the connection behind `handle`.
async fn on<T, F>(
    instance: &RedisInstance,
    handle: &Resource<Connection>,
    command: impl FnOnce(::redis::aio::ConnectionManager) -> F,
) -> Outcome<T>
where
    F: std::future::Future<Output = Result<T, Failure>>,
{
    let result = match instance.connection(handle.rep()) {
        Ok(connection) => command(connection).await,
        Err(failure) => Err(failure),
    };
    Ok(result.map_err(Error::from))
}

impl redis::Host for RedisInstance {}

impl redis::HostConnection for RedisInstance {
    async fn open(&mut self, address: String) -> Outcome<Resource<Connection>> {
        let opened = async {
            let pool = self.admit(&address)?;
            let connection = pool.connect(&address).await?;
            self.insert(connection)
        };
        Ok(opened.await.map(Resource::new_own).map_err(Error::from))
    }

    async fn publish(
        &mut self,
        c: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Outcome<()> {
        on(self, &c, |conn| commands::publish(conn, channel, payload)).await
    }

    async fn get(&mut self, c: Resource<Connection>, key: String) -> Outcome<Option<Vec<u8>>> {
        on(self, &c, |conn| commands::get(conn, key)).await
    }

    async fn set(&mut self, c: Resource<Connection>, key: String, value: Vec<u8>) -> Outcome<()> {
        on(self, &c, |conn| commands::set(conn, key, value)).await
    }

    async fn incr(&mut self, c: Resource<Connection>, key: String) -> Outcome<i64> {
        on(self, &c, |conn| commands::incr(conn, key)).await
    }

    async fn del(&mut self, c: Resource<Connection>, keys: Vec<String>) -> Outcome<u32> {
        on(self, &c, |conn| commands::del(conn, keys)).await
    }

    async fn sadd(
        &mut self,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Outcome<u32> {
        on(self, &c, |conn| commands::sadd(conn, key, values)).await
    }

    async fn smembers(&mut self, c: Resource<Connection>, key: String) -> Outcome<Vec<String>> {
        on(self, &c, |conn| commands::smembers(conn, key)).await
    }

    async fn srem(
        &mut self,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Outcome<u32> {
        on(self, &c, |conn| commands::srem(conn, key, values)).await
    }

    async fn execute(
        &mut self,
        c: Resource<Connection>,
        command: String,
        args: Vec<RedisParameter>,
    ) -> Outcome<Vec<RedisResult>> {
        let args = args.into_iter().map(param).collect();
        let replies = on(self, &c, |conn| commands::execute(conn, command, args)).await?;
        Ok(replies.map(|r| r.into_iter().map(reply).collect()))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}
