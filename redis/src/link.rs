//! One connection to Redis and the scripts loaded on it: `SCRIPT LOAD` the
//! first time a script is used on a connection, `EVALSHA` after, `EVAL`
//! with the text when the server lost its script cache.

use redis::{ErrorKind, FromRedisValue, ServerErrorKind};

use crate::script::Script;

/// A connection with its timeouts set.
pub(crate) struct Link {
    con: redis::Connection,
    /// (script name, sha) of the scripts loaded on this connection.
    loaded: Vec<(&'static str, String)>,
}

impl Link {
    pub(crate) fn new(con: redis::Connection) -> Self {
        Self {
            con,
            loaded: Vec::new(),
        }
    }

    /// Loads `script` now (`SCRIPT LOAD`: one command), so a connection
    /// counts as up only once Redis has answered.
    pub(crate) fn load(&mut self, script: &Script) -> redis::RedisResult<()> {
        let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(script.text).query(&mut self.con)?;
        self.loaded.retain(|(name, _)| *name != script.name);
        self.loaded.push((script.name, sha));
        Ok(())
    }

    /// Runs `script` (loading it first if this connection has not);
    /// returns the reply and how many commands it took.
    pub(crate) fn run<T: FromRedisValue>(
        &mut self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> (redis::RedisResult<T>, u64) {
        let mut commands = 0;
        let sha = match self.loaded.iter().find(|(name, _)| *name == script.name) {
            Some((_, sha)) => sha.clone(),
            None => {
                commands += 1;
                let loaded: redis::RedisResult<String> =
                    redis::cmd("SCRIPT").arg("LOAD").arg(script.text).query(&mut self.con);
                match loaded {
                    Ok(sha) => {
                        self.loaded.push((script.name, sha.clone()));
                        sha
                    }
                    Err(e) => return (Err(e), commands),
                }
            }
        };
        commands += 1;
        let first = redis::cmd("EVALSHA")
            .arg(&sha)
            .arg(keys.len())
            .arg(keys)
            .arg(args)
            .query(&mut self.con);
        match first {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                commands += 1;
                let again = redis::cmd("EVAL")
                    .arg(script.text)
                    .arg(keys.len())
                    .arg(keys)
                    .arg(args)
                    .query(&mut self.con);
                (again, commands)
            }
            other => (other, commands),
        }
    }
}
