//! `fermyon:spin/mysql@2.0.0` (Spin SDKs 2 to 5), with `rdbms-types`.

use kiln_world::v2::mysql::{self, Connection};
use kiln_world::v2::rdbms_types::{Error, ParameterValue, RowSet};
use wasmtime::component::Resource;

use super::client::{self, ColumnType, Failure, Value};
use super::{conversions, MysqlInstance};

conversions!(kiln_world::v2::rdbms_types);

type Outcome<T> = anyhow::Result<Result<T, Error>>;

impl mysql::Host for MysqlInstance {}

impl mysql::HostConnection for MysqlInstance {
    async fn open(&mut self, address: String) -> Outcome<Resource<Connection>> {
        let opened = async {
            let conn = self.admit(&address)?.connect(&address).await?;
            self.insert(conn)
        };
        Ok(opened.await.map(Resource::new_own).map_err(Error::from))
    }

    async fn query(
        &mut self,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<RowSet> {
        let run = async {
            let session = self.session(c.rep())?;
            let mut conn = session.lock().await;
            client::query(&mut conn, &statement, params(values)).await
        };
        Ok(run
            .await
            .map(|rows| RowSet {
                columns: rows
                    .columns
                    .into_iter()
                    .map(|(name, ty)| column(name, ty))
                    .collect(),
                rows: rows
                    .rows
                    .into_iter()
                    .map(|row| row.into_iter().map(db_value).collect())
                    .collect(),
            })
            .map_err(Error::from))
    }

    async fn execute(
        &mut self,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<()> {
        let run = async {
            let session = self.session(c.rep())?;
            let mut conn = session.lock().await;
            client::execute(&mut conn, &statement, params(values)).await
        };
        Ok(run.await.map_err(Error::from))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}
