//! `neux sign`: sign a JSON object of parameters from stdin, as the platform checks it.

use std::io::Read;

use neux_oauth::{AppSecret, Params};

use crate::args::SignArgs;
use crate::failure::Failure;
use crate::terminal;

pub(crate) fn run(a: &SignArgs) -> Result<(), Failure> {
    let secret = AppSecret::new(crate::config::secret_from_env(&a.secret_env)?)
        .map_err(|e| Failure::new("config", format!("{}: {e}", a.secret_env)))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Failure::new("input", format!("could not read stdin as UTF-8: {e}")))?;
    let params =
        Params::from_json_str(&input).map_err(|e| Failure::new("params", e.to_string()))?;
    if a.explain {
        terminal::eprintln(&params.canonical_string_redacted());
    }
    terminal::println(&params.sign(&secret).to_hex());
    Ok(())
}
