//! What the sandbox shows of a caller's parameters: sensitive values masked by neux-proto's one
//! table, plus the names it was told about, at any depth of a JSON body.

use serde_json::Value;

/// Whether the sandbox masks the value of `key`: a name of neux-proto's one table
/// ([`neux_proto::is_sensitive_name`]: the sandbox cannot know which of a caller's own
/// parameters it marked sensitive, so it masks what looks like one), or a key it was told about
/// (`SandboxBuilder::mask_key`, `--mask-key`), in any case.
pub(crate) fn is_sensitive(key: &str, extra: &[String]) -> bool {
    neux_proto::is_sensitive_name(key) || extra.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// `value` with the value of every sensitive key masked, at any depth of objects and arrays
/// (a signed call's `payment: {"cardNo": ...}` is refused, and logged, all the same).
pub(crate) fn masked_json(value: &Value, extra: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive(k, extra) {
                        Value::String(neux_proto::SECRET_MASK.to_owned())
                    } else {
                        masked_json(v, extra)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| masked_json(v, extra)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A JSON tree of random nesting whose sensitive keys all hold `SECRET-n` values.
    fn tree() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<u32>().prop_map(Value::from),
            "[a-z]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("cardNo"),
                            Just("CVV"),
                            Just("api_key"),
                            Just("otp"),
                            Just("userPin"),
                            Just("email"),
                            Just("name"),
                            Just("amount"),
                            Just("items"),
                        ],
                        inner,
                        any::<u16>(),
                    ),
                    0..5,
                )
                .prop_map(|pairs| {
                    let mut map = serde_json::Map::new();
                    for (k, v, n) in pairs {
                        let v = if ["name", "amount", "items"].contains(&k) {
                            v
                        } else {
                            // A secret, or a subtree of secrets, under a sensitive key.
                            json_with_secret(v, n)
                        };
                        map.insert(k.to_owned(), v);
                    }
                    Value::Object(map)
                }),
            ]
        })
    }

    fn json_with_secret(v: Value, n: u16) -> Value {
        match v {
            Value::Object(_) | Value::Array(_) => {
                serde_json::json!({"inner": v, "x": format!("SECRET-{n}")})
            }
            _ => Value::String(format!("SECRET-{n}")),
        }
    }

    proptest! {
        #[test]
        fn no_value_under_a_sensitive_key_survives_at_any_depth(v in tree()) {
            let masked = masked_json(&v, &["email".to_owned()]).to_string();
            prop_assert!(!masked.contains("SECRET-"), "{masked}");
        }
    }

    #[test]
    fn the_structure_and_the_other_values_are_kept() {
        let v = serde_json::json!({"a": [1, {"cvv": 1, "b": "keep"}], "token": {"x": 1}});
        assert_eq!(
            masked_json(&v, &[]),
            serde_json::json!({"a": [1, {"cvv": "[REDACTED]", "b": "keep"}], "token": "[REDACTED]"})
        );
    }
}
