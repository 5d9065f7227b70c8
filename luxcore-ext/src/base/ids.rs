//! Typed identifiers: a payment id is not a ticket id, and the merchant id has one integer
//! type everywhere.
//!
//! The resource methods take `impl Into<PaymentId>` (and so on), so a `&str` or a `String`
//! still works at the call site; keep ids typed in your own structs and the compiler stops a
//! ticket id from reaching `payments().get(..)`:
//!
//! ```compile_fail
//! # async fn demo(client: luxcore_ext::LuxCore, ticket: luxcore_ext::TicketId) {
//! client.payments().get(ticket).await; // a TicketId is not a PaymentId
//! # }
//! ```
//!
//! ```no_run
//! # async fn demo(client: luxcore_ext::LuxCore) -> luxcore_ext::Result<()> {
//! use luxcore_ext::PaymentId;
//!
//! let id = PaymentId::new("pay_1234567890_abcdefgh");
//! let payment = client.payments().get(&id).await?;
//! let same = client.payments().get("pay_1234567890_abcdefgh").await?; // a &str works too
//! # let _ = (payment, same); Ok(()) }
//! ```

use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as the API sent it.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                $name(id.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A payment's id (`pay_...`; a creation answer calls it `transaction_id`).
    PaymentId
);
string_id!(
    /// A webhook endpoint's id (`wh_...`).
    WebhookId
);
string_id!(
    /// A support ticket's id (a UUID).
    TicketId
);

/// The numeric merchant id of API v2 (`X-Merchant-Id`). The generated `Payment.merchant_id`
/// is an `i64`; [`MerchantId::try_from`] reads it (a negative value is not an id).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct MerchantId(u64);

impl MerchantId {
    /// Wraps a merchant id.
    pub const fn new(id: u64) -> Self {
        MerchantId(id)
    }

    /// The id as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for MerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u64> for MerchantId {
    fn from(id: u64) -> Self {
        MerchantId(id)
    }
}

impl From<MerchantId> for u64 {
    fn from(id: MerchantId) -> Self {
        id.0
    }
}

impl TryFrom<i64> for MerchantId {
    type Error = std::num::TryFromIntError;

    fn try_from(id: i64) -> Result<Self, Self::Error> {
        u64::try_from(id).map(MerchantId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_convert_compare_and_serialize_as_plain_values() {
        let id = PaymentId::new("pay_1");
        assert_eq!(id, "pay_1");
        assert_eq!(PaymentId::from(&id), id);
        assert_eq!(String::from(id.clone()), "pay_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"pay_1\"");
        assert_eq!(
            serde_json::from_str::<TicketId>("\"t-1\"")
                .unwrap()
                .as_str(),
            "t-1"
        );
        assert_eq!(MerchantId::try_from(123_i64).unwrap().get(), 123);
        assert!(MerchantId::try_from(-1_i64).is_err());
        assert_eq!(serde_json::to_string(&MerchantId::new(7)).unwrap(), "7");
        assert_eq!(WebhookId::from("wh_1").to_string(), "wh_1");
    }
}
