//! `neux login`: a whole login against any host.

use neux_oauth::AuthCode;

use crate::args::LoginArgs;
use crate::config::{client, parse_scope};
use crate::failure::Failure;
use crate::terminal;

/// The code from `--code`/`NEUX_CODE`, or from the first line of `stdin` for `-`.
fn read_code(arg: &str, mut stdin: impl std::io::BufRead) -> Result<AuthCode, Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::new("usage", format!("--code: {e}"));
    if arg == "-" {
        let mut line = zeroize::Zeroizing::new(String::new());
        stdin.read_line(&mut line).map_err(|e| usage(&e))?;
        AuthCode::new(line.trim_end_matches(['\n', '\r'])).map_err(|e| usage(&e))
    } else {
        AuthCode::new(arg).map_err(|e| usage(&e))
    }
}

pub(crate) async fn run(a: &LoginArgs) -> Result<(), Failure> {
    let client = client(&a.connect)?;
    let scope = parse_scope(&a.scope)?;
    let code = read_code(&a.code, std::io::stdin().lock())?;
    let (tokens, user) = client.login(&code, &scope).await?;
    if a.json {
        let json =
            serde_json::to_string(&user).map_err(|e| Failure::new("output", e.to_string()))?;
        terminal::println_json(&json);
    } else {
        terminal::println(&format!("logged in: openId {}", user.open_id));
        terminal::print_profile(&user);
        terminal::println(&format!(
            "token: {}, expires in {} s",
            tokens.token_type().unwrap_or("bearer"),
            tokens.expires_in().as_secs()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_from_stdin_loses_its_line_ending_only() {
        let code = read_code("-", &b" spaced-code \r\nnext"[..])
            .unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(code.expose_secret(), " spaced-code ");
        let code = read_code("abc", &b"ignored"[..]).unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(code.expose_secret(), "abc");
    }

    #[test]
    fn an_empty_code_is_a_usage_error_without_the_input() {
        let f = read_code("-", &b"\n"[..])
            .err()
            .map(|f| (f.kind, f.message));
        assert_eq!(f.map(|(k, _)| k), Some("usage"));
    }
}
