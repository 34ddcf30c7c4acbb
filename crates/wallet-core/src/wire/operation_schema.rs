//! The OpenAPI schema of a transaction's `operations`: one object per
//! operation `type`, each with the fields that type takes (those it needs
//! required and not null) and the rest allowed only as null, as the server
//! reads them (`src/api/v2/requests/operations.rs`). Built from
//! [`OperationBody`]'s own field schemas, so lengths and patterns are
//! stated once.

use super::OperationBody;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::PartialSchema;

/// Fields whose null is a value (the project's stock, or JSON null
/// properties): sent under a type that does not take them, even null is a
/// 400.
const NULL_IS_A_VALUE: &[&str] = &["customerId", "properties", "to", "from"];

/// Each type: the fields it requires, then those it takes optionally.
const TYPES: &[(&str, &[&str], &[&str])] = &[
    ("Issue", &["destination", "amount"], &["expiresAt"]),
    ("Redeem", &["source", "amount"], &[]),
    ("Transfer", &["source", "destination", "amount"], &[]),
    (
        "Hold",
        &["source", "amount"],
        &["destination", "holdId", "expiresAt"],
    ),
    ("Capture", &["hold"], &["amount", "destination"]),
    ("Void", &["hold"], &[]),
    (
        "GrantItem",
        &["itemType"],
        &["customerId", "properties", "itemId"],
    ),
    ("TransferItem", &["item", "to"], &["from"]),
    ("ConsumeItem", &["item"], &["from"]),
    ("SetItemProperties", &["item", "properties"], &[]),
];

/// A required field's schema: its own, without null (a required field sent
/// as null is missing to the server), except where null is a value.
fn not_null(name: &str, schema: &RefOr<Schema>) -> RefOr<Schema> {
    let mut schema = schema.clone();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        if let SchemaType::Array(types) = &object.schema_type {
            let kept: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
            if !NULL_IS_A_VALUE.contains(&name) && kept.len() == 1 {
                object.schema_type = SchemaType::Type(kept[0].clone());
            }
        }
    }
    schema
}

/// `operations`: 1 to 100 of the per-type objects.
pub fn operations() -> Schema {
    let RefOr::T(Schema::Object(body)) = OperationBody::schema() else {
        return ArrayBuilder::new().items(OperationBody::schema()).build().into();
    };
    let mut one_of = OneOfBuilder::new().description(body.description.clone());
    for (kind, required, optional) in TYPES {
        let mut object = ObjectBuilder::new()
            .title(Some(*kind))
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([*kind])),
            )
            .required("type")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for (name, schema) in &body.properties {
            if name == "type" {
                continue;
            }
            if required.contains(&name.as_str()) {
                object = object.property(name, not_null(name, schema)).required(name);
            } else if optional.contains(&name.as_str()) {
                object = object.property(name, schema.clone());
            } else if !NULL_IS_A_VALUE.contains(&name.as_str()) {
                object = object.property(name, ObjectBuilder::new().schema_type(Type::Null));
            }
        }
        one_of = one_of.item(object);
    }
    ArrayBuilder::new()
        .items(one_of)
        .min_items(Some(1))
        .max_items(Some(crate::operation::MAX_OPERATIONS))
        .build()
        .into()
}
