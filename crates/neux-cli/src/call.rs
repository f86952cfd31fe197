//! `neux call`: any signed call, by hand, against any host.

use neux_oauth::{ApiCall, ParamValue, Params};

use crate::args::CallArgs;
use crate::config::client;
use crate::failure::Failure;
use crate::terminal;

pub(crate) async fn run(a: &CallArgs) -> Result<(), Failure> {
    let params = parse_params(&a.params, &a.sensitive)?;
    let client = client(&a.connect)?;
    let mut call = ApiCall::new(a.path.as_str(), params);
    if a.idempotent {
        call = call.idempotent();
    }
    let response: serde_json::Value = client.call(call).await?;
    let text = if a.json {
        serde_json::to_string(&response)
    } else {
        serde_json::to_string_pretty(&response)
    }
    .map_err(|e| Failure::new("output", e.to_string()))?;
    terminal::println_json(&text);
    Ok(())
}

/// `key=text` and `key:=json` pairs, in a map that refuses what the signer adds itself.
fn parse_params(raw: &[String], sensitive: &[String]) -> Result<Params, Failure> {
    let usage = |m: String| Failure::new("usage", m);
    let mut params = Params::new();
    for p in raw {
        // The first `=` decides: `key:=json` when a `:` comes right before it.
        let json_form = p
            .find('=')
            .is_some_and(|i| i > 0 && p.as_bytes()[i - 1] == b':');
        let (key, value) = if let Some((k, json)) = p.split_once(":=").filter(|_| json_form) {
            let v: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| usage(format!("--param {k}: not JSON after `:=`: {e}")))?;
            let one = Params::from_json(&serde_json::json!({ k: v }))
                .map_err(|e| usage(format!("--param: {e}")))?;
            (k, one.get(k).cloned().unwrap_or(ParamValue::Null))
        } else if let Some((k, text)) = p.split_once('=') {
            (k, ParamValue::Str(text.to_owned()))
        } else {
            return Err(usage(format!(
                "--param {p:?}: expected KEY=TEXT or KEY:=JSON"
            )));
        };
        if key.is_empty() {
            return Err(usage("--param: a key is empty".to_owned()));
        }
        if params
            .insert(key, value)
            .map_err(|e| usage(format!("--param: {e}")))?
            .is_some()
        {
            return Err(usage(format!("--param {key}: given twice")));
        }
    }
    for key in sensitive {
        params.mark_sensitive(key.as_str());
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[&str]) -> Result<Params, Failure> {
        let raw: Vec<String> = raw.iter().map(|s| s.to_string()).collect();
        parse_params(&raw, &["card".to_owned()])
    }

    #[test]
    fn text_and_json_values() {
        let p = parse(&[
            "a=1",
            "b:=1",
            "f=x:=y",
            "c:=[1,2]",
            "d=x=y",
            "e:=true",
            "card=4111",
        ])
        .unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(p.get("a"), Some(&ParamValue::Str("1".into())));
        assert_eq!(p.get("b"), Some(&ParamValue::Int(1)));
        assert_eq!(p.get("d"), Some(&ParamValue::Str("x=y".into())));
        assert_eq!(p.get("e"), Some(&ParamValue::Bool(true)));
        assert_eq!(p.get("f"), Some(&ParamValue::Str("x:=y".into())));
        assert!(p.is_sensitive("card"));
        assert!(!format!("{p:?}").contains("4111"));
    }

    #[test]
    fn bad_pairs_are_usage_errors() {
        for bad in [
            &["novalue"][..],
            &["=x"],
            &["a:=1.5"],
            &["a:={}"],
            &["a=1", "a=2"],
            &["secret=x"],
        ] {
            let f = parse(bad).err().map(|f| f.kind);
            assert_eq!(f, Some("usage"), "{bad:?}");
        }
    }
}
