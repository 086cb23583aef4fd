//! `spin:redis/redis@3.0.0` (Spin SDK 7): the same commands as async functions; the guest's
//! other tasks run while Redis answers.

use ::redis::aio::ConnectionManager;
use kiln_world::v3::redis::{self, Connection, Error, RedisParameter, RedisResult};
use wasmtime::component::{Accessor, Resource};

use super::commands::{self, Failure, Param, Reply};
use super::{conversions, HasRedis, RedisInstance};

conversions!(redis);

type Outcome<T> = anyhow::Result<Result<T, Error>>;

/// Runs `command` on the connection behind `handle`, holding no borrow of the instance while
/// Redis answers.
async fn on<T, D, F>(
    accessor: &Accessor<D, HasRedis>,
    handle: &Resource<Connection>,
    command: impl FnOnce(ConnectionManager) -> F,
) -> Outcome<T>
where
    F: std::future::Future<Output = Result<T, Failure>>,
{
    let connection = accessor.with(|mut access| access.get().connection(handle.rep()));
    let result = match connection {
        Ok(connection) => command(connection).await,
        Err(failure) => Err(failure),
    };
    Ok(result.map_err(Error::from))
}

impl redis::Host for RedisInstance {}

impl redis::HostConnection for RedisInstance {
    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}

impl<T> redis::HostConnectionWithStore<T> for HasRedis {
    async fn open(accessor: &Accessor<T, Self>, address: String) -> Outcome<Resource<Connection>> {
        let opened = async {
            let pool = accessor.with(|mut access| access.get().admit(&address))?;
            let connection = pool.connect(&address).await?;
            accessor.with(|mut access| access.get().insert(connection))
        };
        Ok(opened.await.map(Resource::new_own).map_err(Error::from))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Outcome<()> {
        on(accessor, &c, |conn| {
            commands::publish(conn, channel, payload)
        })
        .await
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> Outcome<Option<Vec<u8>>> {
        on(accessor, &c, |conn| commands::get(conn, key)).await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        value: Vec<u8>,
    ) -> Outcome<()> {
        on(accessor, &c, |conn| commands::set(conn, key, value)).await
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> Outcome<i64> {
        on(accessor, &c, |conn| commands::incr(conn, key)).await
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        keys: Vec<String>,
    ) -> Outcome<u32> {
        on(accessor, &c, |conn| commands::del(conn, keys)).await
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Outcome<u32> {
        on(accessor, &c, |conn| commands::sadd(conn, key, values)).await
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> Outcome<Vec<String>> {
        on(accessor, &c, |conn| commands::smembers(conn, key)).await
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Outcome<u32> {
        on(accessor, &c, |conn| commands::srem(conn, key, values)).await
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        command: String,
        args: Vec<RedisParameter>,
    ) -> Outcome<Vec<RedisResult>> {
        let args = args.into_iter().map(param).collect();
        let replies = on(accessor, &c, |conn| commands::execute(conn, command, args)).await?;
        Ok(replies.map(|r| r.into_iter().map(reply).collect()))
    }
}
