//! `spin:mysql/mysql@3.0.0` (Spin SDK 7): async functions, rows as a stream; the guest's other
//! tasks run while the server answers.

use kiln_world::v3::mysql::{self, Connection, Error, ParameterValue, Row};
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::client::{self, ColumnType, Failure, Value};
use super::{conversions, HasMysql, MysqlInstance, Session};

conversions!(kiln_world::v3::mysql);

type Outcome<T> = anyhow::Result<Result<T, Error>>;

type Rows = (
    Vec<types::Column>,
    StreamReader<Row>,
    FutureReader<Result<(), Error>>,
);

/// The session behind `handle`, holding no borrow of the instance afterwards.
fn session<T>(
    accessor: &Accessor<T, HasMysql>,
    handle: &Resource<Connection>,
) -> Result<Session, Failure> {
    accessor.with(|mut access| access.get().session(handle.rep()))
}

impl mysql::Host for MysqlInstance {}

impl mysql::HostConnection for MysqlInstance {
    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}

impl<T> mysql::HostConnectionWithStore<T> for HasMysql {
    async fn open(accessor: &Accessor<T, Self>, address: String) -> Outcome<Resource<Connection>> {
        let opened = async {
            let pool = accessor.with(|mut access| access.get().admit(&address))?;
            let conn = pool.connect(&address).await?;
            accessor.with(|mut access| access.get().insert(conn))
        };
        Ok(opened.await.map(Resource::new_own).map_err(Error::from))
    }

    async fn query(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<Rows> {
        let run = async {
            let session = session(accessor, &c)?;
            let mut conn = session.lock().await;
            client::query(&mut conn, &statement, params(values)).await
        };
        let rows = match run.await {
            Ok(rows) => rows,
            Err(failure) => return Ok(Err(failure.into())),
        };
        let columns = rows
            .columns
            .into_iter()
            .map(|(name, ty)| column(name, ty))
            .collect();
        let rows: Vec<Row> = rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(db_value).collect())
            .collect();
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<()> {
        let run = async {
            let session = session(accessor, &c)?;
            let mut conn = session.lock().await;
            client::execute(&mut conn, &statement, params(values)).await
        };
        Ok(run.await.map_err(Error::from))
    }
}
