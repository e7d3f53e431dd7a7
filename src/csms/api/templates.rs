//! ShowSecretFunctionTemplates (`GET /v1/csms/function-templates`): the
//! rotation function template for a secret type, rotation account type and,
//! for RDS-FG, database engine. The choices accepted are the cloud's (API
//! reference: `secret_type` RDS-FG or GaussDB-FG, `secret_sub_type`
//! SingleUser or MultiUser, `engine` mysql / postgresql / sqlserver for RDS-FG
//! only). The template text is dewstack's own (the cloud publishes none): a
//! Python function speaking dewstack's rotation protocol (docs/rotation.md).

use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::error::CsmsError;
use crate::csms::wire::CsmsQuery;
use serde::{Deserialize, Serialize};

const TEMPLATE: &str = include_str!("templates/rotation.py");

#[derive(Deserialize)]
pub struct TemplatesQuery {
    pub secret_type: Option<String>,
    pub secret_sub_type: Option<String>,
    pub engine: Option<String>,
}

#[derive(Serialize)]
pub struct ShowSecretFunctionTemplatesResponse {
    pub function_templates: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Mysql,
    Postgresql,
    Sqlserver,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Mysql => "mysql",
            Engine::Postgresql => "postgresql",
            Engine::Sqlserver => "sqlserver",
        }
    }

    fn driver(self) -> &'static str {
        match self {
            Engine::Mysql => "pymysql",
            Engine::Postgresql => "psycopg2-binary",
            Engine::Sqlserver => "pymssql",
        }
    }

    fn connect(self) -> &'static str {
        match self {
            Engine::Mysql => concat!(
                "    import pymysql\n",
                "    return pymysql.connect(host=value[\"host\"], port=int(value.get(\"port\", 3306)),\n",
                "                           user=value[\"username\"], password=value[\"password\"],\n",
                "                           database=value.get(\"database\"), connect_timeout=10)"
            ),
            Engine::Postgresql => concat!(
                "    import psycopg2\n",
                "    return psycopg2.connect(host=value[\"host\"], port=int(value.get(\"port\", 5432)),\n",
                "                            user=value[\"username\"], password=value[\"password\"],\n",
                "                            dbname=value.get(\"database\", \"postgres\"), connect_timeout=10)"
            ),
            Engine::Sqlserver => concat!(
                "    import pymssql\n",
                "    return pymssql.connect(server=value[\"host\"], port=str(value.get(\"port\", 1433)),\n",
                "                           user=value[\"username\"], password=value[\"password\"],\n",
                "                           database=value.get(\"database\", \"master\"), login_timeout=10)"
            ),
        }
    }

    /// Changing a password with the driver's quoting (never string-built SQL
    /// for the password itself where the engine accepts a parameter).
    fn set_password(self) -> &'static str {
        match self {
            Engine::Mysql => concat!(
                "    with conn.cursor() as cur:\n",
                "        cur.execute(\"ALTER USER %s@'%%' IDENTIFIED BY %s\", (username, password))\n",
                "    conn.commit()"
            ),
            Engine::Postgresql => concat!(
                "    from psycopg2 import sql\n",
                "    with conn.cursor() as cur:\n",
                "        cur.execute(sql.SQL(\"ALTER USER {} WITH PASSWORD {}\").format(\n",
                "            sql.Identifier(username), sql.Literal(password)))\n",
                "    conn.commit()"
            ),
            Engine::Sqlserver => concat!(
                "    with conn.cursor() as cur:\n",
                "        cur.execute(\"DECLARE @s nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(%s)\"\n",
                "                    \" + N' WITH PASSWORD = ' + QUOTENAME(%s, '''');\"\n",
                "                    \" EXEC sp_executesql @s\", (username, password))\n",
                "    conn.commit()"
            ),
        }
    }
}

/// The checked query: which template.
#[derive(Debug, PartialEq, Eq)]
struct Choice {
    secret_type: &'static str,
    multi_user: bool,
    engine: Engine,
}

fn parse(q: &TemplatesQuery) -> Result<Choice, CsmsError> {
    let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let secret_type = match given(&q.secret_type).as_deref() {
        None => return Err(CsmsError::MissingParameter("secret_type")),
        Some("RDS-FG") => "RDS-FG",
        Some("GaussDB-FG") => "GaussDB-FG",
        Some(_) => return Err(CsmsError::InvalidParameter("secret_type")),
    };
    let multi_user = match given(&q.secret_sub_type).as_deref() {
        None => return Err(CsmsError::MissingParameter("secret_sub_type")),
        Some("SingleUser") => false,
        Some("MultiUser") => true,
        Some(_) => return Err(CsmsError::InvalidParameter("secret_sub_type")),
    };
    let engine = match (secret_type, given(&q.engine).as_deref()) {
        ("RDS-FG", None) => return Err(CsmsError::MissingParameter("engine")),
        ("RDS-FG", Some("mysql")) => Engine::Mysql,
        ("RDS-FG", Some("postgresql")) => Engine::Postgresql,
        ("RDS-FG", Some("sqlserver")) => Engine::Sqlserver,
        // GaussDB-FG is TaurusDB, MySQL-compatible; "其余凭据类型不支持" engine.
        (_, None) => Engine::Mysql,
        (_, Some(_)) => return Err(CsmsError::InvalidParameter("engine")),
    };
    Ok(Choice {
        secret_type,
        multi_user,
        engine,
    })
}

fn render(c: &Choice) -> String {
    let (sub, note) = if c.multi_user {
        (
            "MultiUser",
            "MultiUser: each rotation switches between the user and\n# \"<user>_clone\" (created beforehand), so the old password keeps working\n# until the next rotation.",
        )
    } else {
        (
            "SingleUser",
            "SingleUser: the one user's password is changed in place.",
        )
    };
    let engine = if c.secret_type == "GaussDB-FG" {
        "taurusdb"
    } else {
        c.engine.name()
    };
    TEMPLATE
        .replace("{{SECRET_TYPE}}", c.secret_type)
        .replace("{{ENGINE}}", engine)
        .replace("{{SUB_TYPE}}", sub)
        .replace("{{SUB_TYPE_NOTE}}", note)
        .replace("{{DRIVER_PACKAGE}}", c.engine.driver())
        .replace("{{CONNECT}}", c.engine.connect())
        .replace("{{SET_PASSWORD}}", c.engine.set_password())
}

pub async fn show_secret_function_templates(
    Query(q, _): CsmsQuery<TemplatesQuery>,
) -> Result<Json<ShowSecretFunctionTemplatesResponse>, CsmsError> {
    let choice = parse(&q)?;
    Ok(Json(ShowSecretFunctionTemplatesResponse {
        function_templates: render(&choice),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn q(t: Option<&str>, s: Option<&str>, e: Option<&str>) -> TemplatesQuery {
        TemplatesQuery {
            secret_type: t.map(Into::into),
            secret_sub_type: s.map(Into::into),
            engine: e.map(Into::into),
        }
    }

    #[test]
    fn the_clouds_choices_are_accepted_and_others_refused() {
        let c = parse(&q(Some("RDS-FG"), Some("MultiUser"), Some("postgresql"))).unwrap();
        assert_eq!((c.multi_user, c.engine), (true, Engine::Postgresql));
        assert_eq!(
            parse(&q(Some("GaussDB-FG"), Some("SingleUser"), None))
                .unwrap()
                .engine,
            Engine::Mysql
        );
        let field = |r: Result<Choice, CsmsError>| match r.unwrap_err() {
            CsmsError::MissingParameter(f) | CsmsError::InvalidParameter(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(parse(&q(None, Some("SingleUser"), None))),
            "secret_type"
        );
        assert_eq!(
            field(parse(&q(Some("COMMON"), Some("SingleUser"), None))),
            "secret_type"
        );
        assert_eq!(
            field(parse(&q(Some("RDS-FG"), Some("Two"), Some("mysql")))),
            "secret_sub_type"
        );
        assert_eq!(
            field(parse(&q(Some("RDS-FG"), Some("SingleUser"), None))),
            "engine"
        );
        assert_eq!(
            field(parse(&q(
                Some("RDS-FG"),
                Some("SingleUser"),
                Some("oracle")
            ))),
            "engine"
        );
        assert_eq!(
            field(parse(&q(
                Some("GaussDB-FG"),
                Some("SingleUser"),
                Some("mysql")
            ))),
            "engine"
        );
    }

    #[test]
    fn every_template_is_filled_in() {
        for e in ["mysql", "postgresql", "sqlserver"] {
            for s in ["SingleUser", "MultiUser"] {
                let t = render(&parse(&q(Some("RDS-FG"), Some(s), Some(e))).unwrap());
                assert!(!t.contains("{{"), "{e} {s}");
                assert!(t.contains(&format!("RDS-FG / {e} / {s}")));
                for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
                    assert!(t.contains(step));
                }
            }
        }
    }
}
