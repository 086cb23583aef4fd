//! Interfaces that link but have no backend yet: `fermyon:spin` mysql and llm @2.0.0,
//! `spin:mysql@3.0.0` and `spin:postgres@4.x`. A component importing them loads; each call fails with the interface's own
//! error saying that no backend is configured, and nothing else happens.

use kiln_world::v2::{llm, mysql, rdbms_types};
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

fn rdbms<T>() -> Rdbms<T> {
    Ok(Err(rdbms_types::Error::ConnectionFailed(NO_BACKEND.into())))
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

unconfigured_rdbms!(mysql, ());

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

/// The `spin:*@3` and `spin:postgres@4` versions: the same interfaces again, most with async
/// functions (which take an [`Accessor`] instead of `&mut self`).
mod v3_interfaces {
    use super::{HasUnconfigured, Unconfigured, NO_BACKEND};
    use kiln_world::v3::{mysql, postgres4};
    use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

    type Outcome<T, E> = anyhow::Result<Result<T, E>>;

    type MysqlRows = (
        Vec<mysql::Column>,
        StreamReader<mysql::Row>,
        FutureReader<Result<(), mysql::Error>>,
    );

    impl mysql::Host for Unconfigured {}

    impl mysql::HostConnection for Unconfigured {
        async fn drop(&mut self, _c: Resource<mysql::Connection>) -> anyhow::Result<()> {
            Ok(())
        }
    }

    impl<T> mysql::HostConnectionWithStore<T> for HasUnconfigured {
        async fn open(
            _: &Accessor<T, Self>,
            _address: String,
        ) -> Outcome<Resource<mysql::Connection>, mysql::Error> {
            Ok(Err(mysql::Error::ConnectionFailed(NO_BACKEND.into())))
        }
        async fn query(
            _: &Accessor<T, Self>,
            _c: Resource<mysql::Connection>,
            _statement: String,
            _params: Vec<mysql::ParameterValue>,
        ) -> Outcome<MysqlRows, mysql::Error> {
            Ok(Err(mysql::Error::ConnectionFailed(NO_BACKEND.into())))
        }
        async fn execute(
            _: &Accessor<T, Self>,
            _c: Resource<mysql::Connection>,
            _statement: String,
            _params: Vec<mysql::ParameterValue>,
        ) -> Outcome<(), mysql::Error> {
            Ok(Err(mysql::Error::ConnectionFailed(NO_BACKEND.into())))
        }
    }

    fn pg4_err<T>() -> Outcome<T, postgres4::Error> {
        Ok(Err(postgres4::Error::ConnectionFailed(NO_BACKEND.into())))
    }

    type Postgres4Rows = (
        Vec<postgres4::Column>,
        StreamReader<postgres4::Row>,
        FutureReader<Result<(), postgres4::Error>>,
    );

    impl postgres4::Host for Unconfigured {}

    impl postgres4::HostConnectionBuilder for Unconfigured {
        async fn new(
            &mut self,
            _address: String,
        ) -> anyhow::Result<Resource<postgres4::ConnectionBuilder>> {
            Ok(Resource::new_own(0))
        }
        async fn set_ca_root(
            &mut self,
            _b: Resource<postgres4::ConnectionBuilder>,
            _certificate: String,
        ) -> Outcome<(), postgres4::Error> {
            Ok(Ok(()))
        }
        async fn build(
            &mut self,
            _b: Resource<postgres4::ConnectionBuilder>,
        ) -> Outcome<Resource<postgres4::Connection>, postgres4::Error> {
            pg4_err()
        }
        async fn drop(&mut self, _b: Resource<postgres4::ConnectionBuilder>) -> anyhow::Result<()> {
            Ok(())
        }
    }

    impl<T> postgres4::HostConnectionBuilderWithStore<T> for HasUnconfigured {
        async fn build_async(
            _: &Accessor<T, Self>,
            _b: Resource<postgres4::ConnectionBuilder>,
        ) -> Outcome<Resource<postgres4::Connection>, postgres4::Error> {
            pg4_err()
        }
    }

    impl postgres4::HostConnection for Unconfigured {
        async fn open(
            &mut self,
            _address: String,
        ) -> Outcome<Resource<postgres4::Connection>, postgres4::Error> {
            pg4_err()
        }
        async fn query(
            &mut self,
            _c: Resource<postgres4::Connection>,
            _statement: String,
            _params: Vec<postgres4::ParameterValue>,
        ) -> Outcome<postgres4::RowSet, postgres4::Error> {
            pg4_err()
        }
        async fn execute(
            &mut self,
            _c: Resource<postgres4::Connection>,
            _statement: String,
            _params: Vec<postgres4::ParameterValue>,
        ) -> Outcome<u64, postgres4::Error> {
            pg4_err()
        }
        async fn drop(&mut self, _c: Resource<postgres4::Connection>) -> anyhow::Result<()> {
            Ok(())
        }
    }

    impl<T> postgres4::HostConnectionWithStore<T> for HasUnconfigured {
        async fn open_async(
            _: &Accessor<T, Self>,
            _address: String,
        ) -> Outcome<Resource<postgres4::Connection>, postgres4::Error> {
            pg4_err()
        }
        async fn query_async(
            _: &Accessor<T, Self>,
            _c: Resource<postgres4::Connection>,
            _statement: String,
            _params: Vec<postgres4::ParameterValue>,
        ) -> Outcome<Postgres4Rows, postgres4::Error> {
            pg4_err()
        }
        async fn execute_async(
            _: &Accessor<T, Self>,
            _c: Resource<postgres4::Connection>,
            _statement: String,
            _params: Vec<postgres4::ParameterValue>,
        ) -> Outcome<u64, postgres4::Error> {
            pg4_err()
        }
    }
}
