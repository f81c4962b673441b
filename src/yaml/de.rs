//! A serde deserializer over a positioned [`Node`] tree.
//!
//! - Every error carries the position of the innermost node it came from.
//! - Unknown keys of a struct are collected (with a "did you mean") rather than stopping at the first one, so a user
//!   sees all of them in one run; the remaining keys still deserialize.
//! - [`super::Located`] fields receive the line and column of their value.

use super::{Node, Value, located::LOCATED_TOKEN};
use crate::diag::{Pos, suggestion};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use std::cell::RefCell;
use std::fmt;

/// Structs whose serde name starts with this allow keys they do not declare (Backstage entities have many); other
/// structs report each unknown key.
pub const OPEN_PREFIX: &str = "open:";

/// A problem found while turning a node tree into a typed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FromNodeError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl FromNodeError {
    fn at(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }
}

impl fmt::Display for FromNodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FromNodeError {}

impl de::Error for FromNodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self { pos: None, message: msg.to_string() }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format_args!(
            "unknown value `{variant}`{}; expected one of: {}",
            suggestion(variant, expected.iter().copied()),
            expected.join(", ")
        ))
    }

    fn invalid_type(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        let expected = match expected.to_string().as_str() {
            "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_string(),
            "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_string(),
            "f32" | "f64" => "a number".to_string(),
            other => other.to_string(),
        };
        Self::custom(format_args!("expected {expected}, found {unexpected}"))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::custom(format_args!("missing required key `{field}`"))
    }
}

/// Deserializes `T` from `node`. On failure returns every problem found: all unknown keys, plus the first type
/// error (serde cannot continue past one).
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Vec<FromNodeError>> {
    let parts = from_node_parts::<T>(node);
    let mut errors = parts.unknown_keys;
    match (parts.value, parts.fatal) {
        (Some(value), None) if errors.is_empty() => Ok(value),
        (_, fatal) => {
            errors.extend(fatal);
            errors.sort_by_key(|e| e.pos);
            Err(errors)
        }
    }
}

/// What [`from_node_parts`] found: the value (when it deserialized), every unknown key, and the error that stopped
/// deserializing (a missing key or a wrong type: serde stops at the first), so a caller can look for the others.
#[derive(Debug)]
pub struct Parts<T> {
    pub value: Option<T>,
    pub unknown_keys: Vec<FromNodeError>,
    pub fatal: Option<FromNodeError>,
}

/// Deserializes `T` from `node`, keeping apart the unknown keys and the error that stopped deserializing.
pub fn from_node_parts<T: DeserializeOwned>(node: &Node) -> Parts<T> {
    let sink = RefCell::new(Vec::new());
    let result = T::deserialize(NodeDe { node, sink: &sink });
    let unknown_keys = sink.into_inner();
    match result {
        Ok(value) => Parts { value: Some(value), unknown_keys, fatal: None },
        Err(e) => Parts { value: None, unknown_keys, fatal: Some(e.at(node.pos)) },
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
    sink: &'a RefCell<Vec<FromNodeError>>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node) -> Self {
        Self { node, sink: self.sink }
    }

    fn invalid(&self, expected: &str) -> FromNodeError {
        FromNodeError {
            pos: Some(self.node.pos),
            message: format!("expected {expected}, found {}", describe(self.node)),
        }
    }
}

/// A node for messages: a scalar with its value ("the string `x`"), else its kind ("a mapping").
pub fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("the string `{s}`"),
        Value::Int(i) => format!("the integer `{i}`"),
        Value::Bool(b) => format!("`{b}`"),
        _ => node.kind_name().to_string(),
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
            self.deserialize_any(visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = FromNodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        let pos = self.node.pos;
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(Seq { de: self, items: items.iter() }),
            Value::Map(entries) => visitor.visit_map(Map {
                de: self,
                entries: entries.iter().collect::<Vec<_>>().into_iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(pos))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_str::<FromNodeError>(s).map_err(|e| e.at(self.node.pos)),
            _ => Err(self.invalid("a string")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_any(visitor),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        match &self.node.value {
            Value::Map(_) => self.deserialize_any(visitor),
            _ => Err(self.invalid("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FromNodeError> {
        let Value::Map(entries) = &self.node.value else {
            return Err(self.invalid("a mapping"));
        };
        let mut known = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = entry.0.key_string();
            if fields.contains(&key.as_str()) {
                known.push(entry);
            } else if !name.starts_with(OPEN_PREFIX) {
                self.sink.borrow_mut().push(FromNodeError {
                    pos: Some(entry.0.pos),
                    message: format!(
                        "unknown key `{key}`{}; expected one of: {}",
                        suggestion(&key, fields.iter().copied()),
                        fields.join(", ")
                    ),
                });
            }
        }
        visitor.visit_map(Map { de: self, entries: known.into_iter(), value: None }).map_err(|e| e.at(self.node.pos))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FromNodeError> {
        match &self.node.value {
            Value::Str(_) => visitor.visit_enum(Enum { de: self, key: self.node, value: None }),
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(Enum { de: self, key, value: Some(value) })
            }
            Value::Map(entries) if entries.is_empty() => Err(self.invalid(&format!("one of: {}", variants.join(", ")))),
            Value::Map(entries) => Err(FromNodeError {
                pos: Some(entries[1].0.pos),
                message: format!(
                    "expected exactly one of: {} (found `{}` and `{}`; combine checks with `all` or `any`)",
                    variants.join(", "),
                    entries[0].0.key_string(),
                    entries[1].0.key_string()
                ),
            }),
            _ => Err(self.invalid(&format!("one of: {}", variants.join(", ")))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FromNodeError> {
        if name == LOCATED_TOKEN {
            let pos = self.node.pos;
            let parts = LocatedParts { de: self, step: 0, pos };
            return visitor.visit_seq(parts);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FromNodeError> {
        match self.node.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.invalid("nothing (null)")),
        }
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128 deserialize_f32
        deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf deserialize_identifier
        deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, FromNodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, FromNodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, FromNodeError> {
        self.deserialize_seq(visitor)
    }
}

struct Seq<'a, I> {
    de: NodeDe<'a>,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = &'a Node>> SeqAccess<'de> for Seq<'a, I> {
    type Error = FromNodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, FromNodeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(self.de.child(node)).map(Some).map_err(|e| e.at(node.pos)),
            None => Ok(None),
        }
    }
}

struct Map<'a, I> {
    de: NodeDe<'a>,
    entries: I,
    value: Option<&'a Node>,
}

impl<'de, 'a, I: Iterator<Item = &'a (Node, Node)>> MapAccess<'de> for Map<'a, I> {
    type Error = FromNodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, FromNodeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                let key_node = Node { pos: key.pos, value: Value::Str(key.key_string()) };
                seed.deserialize(self.de.child(&key_node)).map(Some).map_err(|e| e.at(key.pos))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, FromNodeError> {
        let node = self.value.take().expect("serde asks for a value after its key");
        seed.deserialize(self.de.child(node)).map_err(|e| e.at(node.pos))
    }
}

struct Enum<'a> {
    de: NodeDe<'a>,
    key: &'a Node,
    value: Option<&'a Node>,
}

impl<'de, 'a> EnumAccess<'de> for Enum<'a> {
    type Error = FromNodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), FromNodeError> {
        let name = self.key.key_string();
        let de: de::value::StrDeserializer<'_, FromNodeError> = name.as_str().into_deserializer();
        let variant = seed.deserialize(de).map_err(|e| e.at(self.key.pos))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Enum<'_> {
    type Error = FromNodeError;

    fn unit_variant(self) -> Result<(), FromNodeError> {
        match self.value {
            None => Ok(()),
            Some(v) if v.value == Value::Null => Ok(()),
            Some(v) => Err(FromNodeError {
                pos: Some(v.pos),
                message: format!("`{}` takes no settings", self.key.key_string()),
            }),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, FromNodeError> {
        let value = self.value.ok_or_else(|| FromNodeError {
            pos: Some(self.key.pos),
            message: format!("`{}` needs a value", self.key.key_string()),
        })?;
        seed.deserialize(self.de.child(value)).map_err(|e| e.at(value.pos))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, FromNodeError> {
        match self.value {
            Some(value) => de::Deserializer::deserialize_seq(self.de.child(value), visitor),
            None => Err(FromNodeError { pos: Some(self.key.pos), message: "expected a list".into() }),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FromNodeError> {
        let empty = Node { pos: self.key.pos, value: Value::Map(Vec::new()) };
        match self.value {
            Some(value) if value.value != Value::Null => {
                de::Deserializer::deserialize_struct(self.de.child(value), "", fields, visitor)
            }
            // `kind:` with no settings is the same as `kind: {}`.
            _ => de::Deserializer::deserialize_struct(NodeDe { node: &empty, sink: self.de.sink }, "", fields, visitor),
        }
    }
}

/// Feeds `(line, col, value)` to [`super::Located`]'s visitor.
struct LocatedParts<'a> {
    de: NodeDe<'a>,
    step: u8,
    pos: Pos,
}

impl<'de> SeqAccess<'de> for LocatedParts<'_> {
    type Error = FromNodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, FromNodeError> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize((self.pos.line as u64).into_deserializer()).map(Some),
            2 => seed.deserialize((self.pos.col as u64).into_deserializer()).map(Some),
            3 => seed.deserialize(self.de).map(Some),
            _ => Ok(None),
        }
    }
}
