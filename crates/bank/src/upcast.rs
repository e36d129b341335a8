//! Upcasters for legacy payloads. Each moves one event type exactly one `schema_version`.

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Number, Value, json};

use rewind_core::{Payload, SmolStr, UpcastError, Upcaster, UpcasterChain};
use smol_str::format_smolstr;

use crate::account::{AccountEvent, MoneyDeposited};
use crate::order::{OrderCreated, OrderEvent, OrderItem};

/// The bank's upcasters, in one chain.
pub fn upcasters() -> UpcasterChain {
    UpcasterChain::default().with(MoneyDepositedV1).with(OrderCreatedV1)
}

/// `MoneyDeposited` v1 `{"amount": 12.5}` (major units, a float) → v2 `{"amount_cents": 1250, "reference": ""}`.
pub struct MoneyDepositedV1;

impl Upcaster for MoneyDepositedV1 {
    fn event_type(&self) -> &'static str {
        "MoneyDeposited"
    }

    fn source_version(&self) -> u32 {
        1
    }

    fn upcast(&self, data: &Value) -> Result<Value, UpcastError> {
        let fail = |reason: String| UpcastError::Failed {
            event_type: self.event_type().into(),
            from_version: 1,
            reason,
        };
        let amount = data
            .get("amount")
            .ok_or_else(|| fail("field `amount` is missing".into()))?;
        let amount_cents = cents_from_major_units(amount).map_err(fail)?;
        let reference = data.get("reference").and_then(Value::as_str).unwrap_or("");
        Ok(json!({ "amount_cents": amount_cents, "reference": reference }))
    }

    fn upcast_payload(&self, data: &Payload) -> Option<Payload> {
        #[derive(Deserialize)]
        struct V1 {
            amount: Number,
            reference: Option<Value>,
        }
        let MapOnly(v1) = data.decode::<MapOnly<V1>>().ok()?;
        let v2 = MoneyDeposited {
            amount_cents: cents_from_major_units(&Value::Number(v1.amount)).ok()?,
            reference: v1.reference.as_ref().and_then(Value::as_str).unwrap_or("").into(),
        };
        // The account reads the v2 event it was written from, not its text again. v2 is the
        // latest `MoneyDeposited` (the chain ends here), so it is the account's own event.
        let payload = Payload::serialized(&v2).ok()?;
        Some(payload.with_typed(AccountEvent::MoneyDeposited(v2)))
    }
}

/// `OrderCreated` v1 `{"id", "customer_id", "order_items": [{"sku", "name", "qty", "price"}], "total"}`
/// (prices as floats of major units, no account) → v2
/// `{"customer_id", "account_id", "items": [{"product_id", "product_name", "quantity", "unit_price_cents"}], "total_cents"}`.
///
/// v1 orders were always paid from the customer's own account: `customer-<n>` pays from
/// `account-<n>`, which is how the v2 `account_id` is derived.
pub struct OrderCreatedV1;

impl Upcaster for OrderCreatedV1 {
    fn event_type(&self) -> &'static str {
        "OrderCreated"
    }

    fn source_version(&self) -> u32 {
        1
    }

    fn upcast(&self, data: &Value) -> Result<Value, UpcastError> {
        let fail = |reason: String| UpcastError::Failed {
            event_type: self.event_type().into(),
            from_version: 1,
            reason,
        };
        let customer_id = data
            .get("customer_id")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("field `customer_id` is missing or not a string".into()))?;
        let account_id = customer_id
            .strip_prefix("customer-")
            .map(|n| format!("account-{n}"))
            .ok_or_else(|| {
                fail(format!(
                    "customer id `{customer_id}` does not name an account (expected customer-<n>)"
                ))
            })?;
        let order_items = data
            .get("order_items")
            .and_then(Value::as_array)
            .ok_or_else(|| fail("field `order_items` is missing or not an array".into()))?;
        let mut items = Vec::with_capacity(order_items.len());
        for (index, item) in order_items.iter().enumerate() {
            let field = |name: &str| {
                item.get(name)
                    .ok_or_else(|| fail(format!("order_items[{index}].{name} is missing")))
            };
            let price = cents_from_major_units(field("price")?)
                .map_err(|e| fail(format!("order_items[{index}].price: {e}")))?;
            let quantity = field("qty")?
                .as_i64()
                .ok_or_else(|| fail(format!("order_items[{index}].qty is not an integer")))?;
            let mut out = Map::new();
            out.insert("product_id".into(), field("sku")?.clone());
            out.insert("product_name".into(), field("name")?.clone());
            out.insert("quantity".into(), json!(quantity));
            out.insert("unit_price_cents".into(), json!(price));
            items.push(Value::Object(out));
        }
        let total = data
            .get("total")
            .ok_or_else(|| fail("field `total` is missing".into()))?;
        let total_cents = cents_from_major_units(total).map_err(|e| fail(format!("total: {e}")))?;
        Ok(json!({
            "customer_id": customer_id,
            "account_id": account_id,
            "items": items,
            "total_cents": total_cents,
        }))
    }

    fn upcast_payload(&self, data: &Payload) -> Option<Payload> {
        #[derive(Deserialize)]
        struct V1 {
            customer_id: SmolStr,
            order_items: Vec<MapOnly<ItemV1>>,
            total: Number,
        }
        #[derive(Deserialize)]
        struct ItemV1 {
            // Strings only: anything else goes through the tree path, which copies it as is
            // (a float would not survive a trip through text exactly).
            sku: SmolStr,
            name: SmolStr,
            qty: i64,
            price: Number,
        }
        let MapOnly(v1) = data.decode::<MapOnly<V1>>().ok()?;
        let items = v1
            .order_items
            .into_iter()
            .map(|MapOnly(item)| {
                Some(OrderItem {
                    unit_price_cents: cents_from_major_units(&Value::Number(item.price)).ok()?,
                    product_id: item.sku,
                    product_name: item.name,
                    quantity: item.qty,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let v2 = OrderCreated {
            account_id: format_smolstr!("account-{}", v1.customer_id.strip_prefix("customer-")?),
            customer_id: v1.customer_id,
            items,
            total_cents: cents_from_major_units(&Value::Number(v1.total)).ok()?,
        };
        // The order reads the v2 event it was written from, not its text again. v2 is the
        // latest `OrderCreated` (the chain ends here), so it is the order's own event.
        let payload = Payload::serialized(&v2).ok()?;
        Some(payload.with_typed(OrderEvent::OrderCreated(v2)))
    }
}

/// `T` read only from a JSON object. A derived struct would also accept an array of its
/// fields in order, which the tree path ([`Upcaster::upcast`]) rightly refuses.
struct MapOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(MapOnly)
    }
}

/// Converts a JSON number of major units (`12.5`) to integer cents (`1250`), refusing values
/// that are not a whole number of cents.
fn cents_from_major_units(amount: &Value) -> Result<i64, String> {
    if let Some(whole) = amount.as_i64() {
        return whole
            .checked_mul(100)
            .ok_or_else(|| format!("amount {whole} is out of range"));
    }
    let major = amount
        .as_f64()
        .ok_or_else(|| format!("amount {amount} is not a number"))?;
    let cents = (major * 100.0).round();
    if !cents.is_finite() || cents.abs() > 9.0e15 {
        return Err(format!("amount {major} is out of range"));
    }
    if (major * 100.0 - cents).abs() > 1e-6 {
        return Err(format!("amount {major} is not a whole number of cents"));
    }
    Ok(cents as i64)
}

/// The v1 payload a legacy writer would have stored for a current payload; the sample
/// generator uses it to write history from before the schema change.
pub(crate) fn downcast_to_v1(stream_id: &str, event_type: &str, data: &Value) -> Option<Value> {
    let major = |cents: &Value| cents.as_i64().map(|c| json!(c as f64 / 100.0));
    match event_type {
        "MoneyDeposited" => Some(json!({ "amount": major(data.get("amount_cents")?)? })),
        "OrderCreated" => {
            let items = data.get("items")?.as_array()?;
            let order_items = items
                .iter()
                .map(|item| {
                    Some(json!({
                        "sku": item.get("product_id")?,
                        "name": item.get("product_name")?,
                        "qty": item.get("quantity")?,
                        "price": major(item.get("unit_price_cents")?)?,
                    }))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(json!({
                "id": stream_id,
                "customer_id": data.get("customer_id")?,
                "order_items": order_items,
                "total": major(data.get("total_cents")?)?,
            }))
        }
        _ => None,
    }
}
