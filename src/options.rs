//! Option objects as the bindings receive them (a JS object, a Python dict): read into the
//! library's option structs with unknown keys refused by name, since serde reads only the
//! fields it knows and a misspelt option would otherwise be ignored.

/// The keys a struct deserializes from (its fields as renamed), as serde hands them to
/// `deserialize_struct`; `None` for anything else, such as a struct with a flattened field,
/// which serde reads as a map.
pub(crate) fn struct_fields<T: serde::de::DeserializeOwned>() -> Option<&'static [&'static str]> {
    use serde::de::{self, Visitor};
    struct Probe<'a>(&'a mut Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = Some(fields);
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields = None;
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Refuses a key that is not in `known`, naming it and the keys there are.
pub(crate) fn check_keys<K: AsRef<str>>(
    keys: impl IntoIterator<Item = K>,
    known: &[&str],
    what: &str,
) -> Result<(), String> {
    for key in keys {
        let key = key.as_ref();
        if !known.contains(&key) {
            return Err(format!(
                "unknown key '{key}' in the {what}; expected one of {}",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// An options object given as JSON text, as `T`; a key `T` does not have is refused at the
/// top level by [`check_keys`], and below it by structs that deny unknown fields.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, String> {
    if let Some(fields) = struct_fields::<T>()
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text)
    {
        check_keys(map.keys(), fields, what)?;
    }
    serde_json::from_str(text).map_err(|e| {
        // serde_json places errors by line and column of a text the caller never saw.
        let e = e.to_string();
        let e = e.split(" at line ").next().unwrap_or(&e);
        format!("invalid {what}: {e}")
    })
}
