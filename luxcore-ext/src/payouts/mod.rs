//! Typed payout details per rail: a withdrawal's [`Recipient`], checked before anything is
//! sent, over the free-form `payout` object the API takes.
//!
//! ```
//! use luxcore_ext::payments::PaymentRequest;
//! use luxcore_ext::payouts::Recipient;
//! use luxcore_ext::{Currency, Error, Money, PaymentMethod};
//!
//! let cvu = Recipient::cvu("0000003100099999999994").holder_name("Juana Pérez").cuil("27-12345678-0");
//! let request = PaymentRequest::withdrawal(Money::new(4_599_990, Currency::ARS), PaymentMethod::BankTransfer, "payout_42")
//!     .payout_to(&cvu)
//!     .build()
//!     .unwrap();
//! let payout = request.payout.unwrap();
//! assert_eq!(payout["account_number"], "0000003100099999999994");
//! assert_eq!(payout["account_type"], "cvu");
//!
//! // A mistyped CVU (last digit) never leaves the process.
//! let typo = Recipient::cvu("0000003100099999999995");
//! let refused = PaymentRequest::withdrawal(Money::new(100, Currency::ARS), PaymentMethod::BankTransfer, "payout_43")
//!     .payout_to(&typo)
//!     .build();
//! assert_eq!(
//!     refused.unwrap_err().to_string(),
//!     "invalid request: payout cvu: the check digit of the second block (digit 22) does not match the account"
//! );
//! ```
//!
//! ## What is checked
//!
//! | market | [`Recipient`] constructor | checked |
//! |---|---|---|
//! | Argentina | [`cbu`](Recipient::cbu), [`cvu`](Recipient::cvu) | 22 digits, both check digits (BCRA); a CVU starts with `000`, a CBU does not |
//! | | [`alias`](Recipient::alias) | 6-20 characters: letters, digits, `.`, `-` |
//! | | [`cuit`](Recipient::cuit), [`cuil`](Recipient::cuil) (holder) | 11 digits, type prefix, check digit (mod 11; AFIP) |
//! | Mexico | [`clabe`](Recipient::clabe) (SPEI) | 18 digits, check digit (weights 3 7 1; Banxico) |
//! | Australia | [`au_bank`](Recipient::au_bank) | BSB: 6 digits; account: 1-9 digits (BECS), not all zeros |
//! | | [`payid_email`](Recipient::payid_email), [`payid_phone`](Recipient::payid_phone), [`payid_abn`](Recipient::payid_abn) | address shape; Australian number (sent as `+61…`); ABN checksum (mod 89) |
//! | Turkey | [`tr_iban`](Recipient::tr_iban) | TR IBAN structure (26 characters) and mod 97-10, by `iban_validate` |
//! | Uruguay | [`uy_bank`](Recipient::uy_bank) | no national account standard exists: bank not empty, account 1-20 digits |
//! | | [`uy_ci`](Recipient::uy_ci), [`uy_rut`](Recipient::uy_rut) (holder) | CI: check digit (mod 10; DNIC); RUT: 12 digits, check digit (mod 11; DGI) |
//! | Sri Lanka | [`lk_bank`](Recipient::lk_bank) | bank code 4 digits, branch code 3 digits (SLIPS/CEFTS), account 1-20 digits; no public check digit |
//! | | [`lk_nic`](Recipient::lk_nic) (holder) | old (9 digits + V/X) or new (12 digits) format, day-of-year field; its check digit is not published |
//!
//! Separators people type (spaces, `-`, `.`) are removed, and the normalized value is
//! sent. The recipient must be of the payment's market: a CLABE on an ARS withdrawal is
//! refused. A holder id must be of the account's country.
//!
//! What the check digits catch (the property tests in `tests/payout_details.rs` check each
//! claim on generated numbers):
//!
//! | identifier | any single-digit change | any swap of two adjacent digits |
//! |---|---|---|
//! | CBU / CVU (each block), CLABE | always | unless the two digits differ by 5 (`0`↔`5`, `1`↔`6`, ...): the weights are odd, their differences even |
//! | CUIT / CUIL, RUT, ABN, IBAN | always | always |
//! | Uruguayan CI | unless a digit at a weight-2, 8, 6 or 4 position changes by 5 | always |
//!
//! ## The keys sent (assumed)
//!
//! LuxCore does not document the keys of `payout`; the one place that decides them is
//! `api_fields` in this module, and it is an assumption (see [`Recipient::to_payout`]).
//! The raw map stays available: [`Recipient::to_payout`] returns it, and
//! [`PaymentRequest::payout_field`](crate::payments::PaymentRequest::payout_field) /
//! [`payout`](crate::payments::PaymentRequest::payout) set any keys directly.

mod rules;

use std::fmt;

use luxcore_api::enums::Currency;
use luxcore_api::types::PayoutDetails;
use serde_json::{Map, Value};

use crate::base::error::Error;

/// Why a payout detail was refused: the field (`cvu`, `clabe`, `payid`, ...) and the rule it
/// breaks. The value itself is never repeated (it is bank data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payout {field}: {rule}")]
pub struct PayoutError {
    field: &'static str,
    rule: String,
}

impl PayoutError {
    /// The field: `cbu`, `cvu`, `alias`, `cuit`, `cuil`, `clabe`, `bsb`, `account_number`,
    /// `payid`, `iban`, `bank`, `bank_code`, `branch_code`, `ci`, `rut`, `nic`,
    /// `account_holder`, or `currency` / `holder_id` for a recipient of another market.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule the value breaks, in words.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl From<PayoutError> for Error {
    /// [`Error::InvalidRequest`]: `invalid request: payout <field>: <rule>`.
    fn from(error: PayoutError) -> Self {
        Error::InvalidRequest(error.to_string())
    }
}

/// Where a withdrawal goes, per rail, and optionally who holds the account: built from the
/// text people type, checked by [`Self::validate`] (and by
/// [`PaymentRequest::payout_to`](crate::payments::PaymentRequest::payout_to) before
/// anything is sent). See the [module](self) for the rules of each rail.
///
/// `Debug` shows the rail only, never the account, name or id.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    account: Account,
    holder_name: Option<String>,
    holder_id: Option<HolderId>,
}

/// An account on one rail, as typed (or, after [`Recipient::normalized`], as sent).
#[derive(Clone, PartialEq, Eq)]
enum Account {
    Cbu(String),
    Cvu(String),
    Alias(String),
    Clabe(String),
    AuBank {
        bsb: String,
        account: String,
    },
    PayId(PayIdKind, String),
    TrIban(String),
    UyBank {
        bank: String,
        account: String,
    },
    LkBank {
        bank: String,
        branch: String,
        account: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PayIdKind {
    Email,
    Phone,
    Abn,
}

/// The account holder's identity document.
#[derive(Clone, PartialEq, Eq)]
enum HolderId {
    Cuit(String),
    Cuil(String),
    UyCi(String),
    UyRut(String),
    LkNic(String),
}

impl Account {
    /// The rail's name, for `Debug` and messages.
    fn rail(&self) -> &'static str {
        match self {
            Account::Cbu(_) => "CBU",
            Account::Cvu(_) => "CVU",
            Account::Alias(_) => "alias",
            Account::Clabe(_) => "CLABE",
            Account::AuBank { .. } => "BSB and account",
            Account::PayId(..) => "PayID",
            Account::TrIban(_) => "IBAN",
            Account::UyBank { .. } => "Uruguayan bank account",
            Account::LkBank { .. } => "Sri Lankan bank account",
        }
    }

    /// The market's currency.
    fn currency(&self) -> Currency {
        match self {
            Account::Cbu(_) | Account::Cvu(_) | Account::Alias(_) => Currency::ARS,
            Account::Clabe(_) => Currency::MXN,
            Account::AuBank { .. } | Account::PayId(..) => Currency::AUD,
            Account::TrIban(_) => Currency::TRY,
            Account::UyBank { .. } => Currency::UYU,
            Account::LkBank { .. } => Currency::LKR,
        }
    }

    fn normalized(&self) -> Result<Account, PayoutError> {
        Ok(match self {
            Account::Cbu(n) => Account::Cbu(rules::cbu_or_cvu("cbu", n)?),
            Account::Cvu(n) => Account::Cvu(rules::cbu_or_cvu("cvu", n)?),
            Account::Alias(a) => Account::Alias(rules::alias(a)?),
            Account::Clabe(n) => Account::Clabe(rules::clabe(n)?),
            Account::AuBank { bsb, account } => Account::AuBank {
                bsb: rules::bsb(bsb)?,
                account: rules::au_account(account)?,
            },
            Account::PayId(kind, value) => Account::PayId(
                *kind,
                match kind {
                    PayIdKind::Email => rules::payid_email(value)?,
                    PayIdKind::Phone => rules::payid_phone(value)?,
                    PayIdKind::Abn => rules::abn(value)?,
                },
            ),
            Account::TrIban(n) => Account::TrIban(rules::tr_iban(n)?),
            Account::UyBank { bank, account } => {
                let (bank, account) = rules::uy_account(bank, account)?;
                Account::UyBank { bank, account }
            }
            Account::LkBank {
                bank,
                branch,
                account,
            } => {
                let (bank, branch, account) = rules::lk_account(bank, branch, account)?;
                Account::LkBank {
                    bank,
                    branch,
                    account,
                }
            }
        })
    }
}

impl HolderId {
    fn currency(&self) -> Currency {
        match self {
            HolderId::Cuit(_) | HolderId::Cuil(_) => Currency::ARS,
            HolderId::UyCi(_) | HolderId::UyRut(_) => Currency::UYU,
            HolderId::LkNic(_) => Currency::LKR,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            HolderId::Cuit(_) => "CUIT",
            HolderId::Cuil(_) => "CUIL",
            HolderId::UyCi(_) => "CI",
            HolderId::UyRut(_) => "RUT",
            HolderId::LkNic(_) => "NIC",
        }
    }

    fn normalized(&self) -> Result<HolderId, PayoutError> {
        Ok(match self {
            HolderId::Cuit(n) => HolderId::Cuit(rules::cuit_or_cuil("cuit", n)?),
            HolderId::Cuil(n) => HolderId::Cuil(rules::cuit_or_cuil("cuil", n)?),
            HolderId::UyCi(n) => HolderId::UyCi(rules::uy_ci(n)?),
            HolderId::UyRut(n) => HolderId::UyRut(rules::uy_rut(n)?),
            HolderId::LkNic(n) => HolderId::LkNic(rules::lk_nic(n)?),
        })
    }
}

impl Recipient {
    fn new(account: Account) -> Self {
        Recipient {
            account,
            holder_name: None,
            holder_id: None,
        }
    }

    /// Argentina: a bank account's CBU (22 digits; `0170329540000000195558`, spaces and
    /// `-` allowed).
    pub fn cbu(cbu: impl Into<String>) -> Self {
        Self::new(Account::Cbu(cbu.into()))
    }

    /// Argentina: a virtual account's CVU (22 digits starting with `000`: Mercado Pago,
    /// Ualá and other wallets).
    pub fn cvu(cvu: impl Into<String>) -> Self {
        Self::new(Account::Cvu(cvu.into()))
    }

    /// Argentina: the alias of a CBU or CVU (`juana.perez.mp`).
    pub fn alias(alias: impl Into<String>) -> Self {
        Self::new(Account::Alias(alias.into()))
    }

    /// Mexico: a CLABE, for SPEI (18 digits).
    pub fn clabe(clabe: impl Into<String>) -> Self {
        Self::new(Account::Clabe(clabe.into()))
    }

    /// Australia: a BSB (`062-000`) and account number.
    pub fn au_bank(bsb: impl Into<String>, account_number: impl Into<String>) -> Self {
        Self::new(Account::AuBank {
            bsb: bsb.into(),
            account: account_number.into(),
        })
    }

    /// Australia: an e-mail address PayID.
    pub fn payid_email(email: impl Into<String>) -> Self {
        Self::new(Account::PayId(PayIdKind::Email, email.into()))
    }

    /// Australia: a phone number PayID (`0412 345 678` or `+61 412 345 678`).
    pub fn payid_phone(phone: impl Into<String>) -> Self {
        Self::new(Account::PayId(PayIdKind::Phone, phone.into()))
    }

    /// Australia: an ABN PayID (`51 824 753 556`).
    pub fn payid_abn(abn: impl Into<String>) -> Self {
        Self::new(Account::PayId(PayIdKind::Abn, abn.into()))
    }

    /// Turkey: an IBAN (`TR33 0006 1005 1978 6457 8413 26`).
    pub fn tr_iban(iban: impl Into<String>) -> Self {
        Self::new(Account::TrIban(iban.into()))
    }

    /// Uruguay: a bank (name or code) and account number.
    pub fn uy_bank(bank: impl Into<String>, account_number: impl Into<String>) -> Self {
        Self::new(Account::UyBank {
            bank: bank.into(),
            account: account_number.into(),
        })
    }

    /// Sri Lanka: bank code (4 digits), branch code (3 digits) and account number.
    pub fn lk_bank(
        bank_code: impl Into<String>,
        branch_code: impl Into<String>,
        account_number: impl Into<String>,
    ) -> Self {
        Self::new(Account::LkBank {
            bank: bank_code.into(),
            branch: branch_code.into(),
            account: account_number.into(),
        })
    }

    /// The account holder's name.
    pub fn holder_name(mut self, name: impl Into<String>) -> Self {
        self.holder_name = Some(name.into());
        self
    }

    /// Argentina: the holder's CUIT (`20-12345678-6`).
    pub fn cuit(self, cuit: impl Into<String>) -> Self {
        self.holder_id(HolderId::Cuit(cuit.into()))
    }

    /// Argentina: the holder's CUIL.
    pub fn cuil(self, cuil: impl Into<String>) -> Self {
        self.holder_id(HolderId::Cuil(cuil.into()))
    }

    /// Uruguay: the holder's cédula de identidad (`1.234.567-2`).
    pub fn uy_ci(self, ci: impl Into<String>) -> Self {
        self.holder_id(HolderId::UyCi(ci.into()))
    }

    /// Uruguay: the holder's RUT (12 digits).
    pub fn uy_rut(self, rut: impl Into<String>) -> Self {
        self.holder_id(HolderId::UyRut(rut.into()))
    }

    /// Sri Lanka: the holder's NIC number (`853400937V` or `198534000937`).
    pub fn lk_nic(self, nic: impl Into<String>) -> Self {
        self.holder_id(HolderId::LkNic(nic.into()))
    }

    fn holder_id(mut self, id: HolderId) -> Self {
        self.holder_id = Some(id);
        self
    }

    /// The currency of the account's market (ARS for a CBU, MXN for a CLABE, ...).
    pub fn currency(&self) -> Currency {
        self.account.currency()
    }

    /// Checks every field; the first broken rule is the error.
    pub fn validate(&self) -> Result<(), PayoutError> {
        self.normalized().map(|_| ())
    }

    /// The checked details as the API's `payout` object, ready for
    /// [`PaymentRequest::payout`](crate::payments::PaymentRequest::payout) (add or change
    /// keys there if LuxCore tells you other names).
    ///
    /// **The keys are assumed**: LuxCore does not document them. This SDK sends
    ///
    /// | details | keys |
    /// |---|---|
    /// | CBU, CVU, alias | `account_number`, `account_type` (`cbu`, `cvu`, `alias`) |
    /// | CLABE | `clabe` |
    /// | BSB and account | `bsb`, `account_number` |
    /// | PayID | `payid`, `payid_type` (`email`, `phone`, `abn`) |
    /// | Turkish IBAN | `account_number`, `account_type` = `iban` |
    /// | Uruguay | `bank`, `account_number` |
    /// | Sri Lanka | `bank_code`, `branch_code`, `account_number` |
    /// | holder name | `account_holder` |
    /// | holder id | `document_type` (`cuit`, `cuil`, `ci`, `rut`, `nic`), `document_number` |
    ///
    /// `account_number`, `clabe` and `payid` are the keys the API's own examples and
    /// bank details use; the others follow the same style.
    pub fn to_payout(&self) -> Result<PayoutDetails, PayoutError> {
        self.normalized().map(|r| PayoutDetails(api_fields(&r)))
    }

    /// [`Self::to_payout`] for a withdrawal in `currency`, which must be the account's.
    pub(crate) fn payout_for(&self, currency: &Currency) -> Result<PayoutDetails, PayoutError> {
        if self.currency() != *currency {
            return Err(PayoutError {
                field: "currency",
                rule: format!(
                    "a {} is for {} payouts, this withdrawal is in {currency}",
                    self.account.rail(),
                    self.currency()
                ),
            });
        }
        self.to_payout()
    }

    /// Every field checked and normalized (separators removed), as it will be sent.
    fn normalized(&self) -> Result<Recipient, PayoutError> {
        let account = self.account.normalized()?;
        let holder_id = match &self.holder_id {
            Some(id) if id.currency() != account.currency() => {
                return Err(PayoutError {
                    field: "holder_id",
                    rule: format!("a {} does not go with a {}", id.name(), account.rail()),
                });
            }
            Some(id) => Some(id.normalized()?),
            None => None,
        };
        let holder_name = self
            .holder_name
            .as_deref()
            .map(rules::holder_name)
            .transpose()?;
        Ok(Recipient {
            account,
            holder_name,
            holder_id,
        })
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| present.then_some("[redacted]");
        f.debug_struct("Recipient")
            .field("rail", &self.account.rail())
            .field("account", &"[redacted]")
            .field("holder_name", &redacted(self.holder_name.is_some()))
            .field("holder_id", &self.holder_id.as_ref().map(HolderId::name))
            .finish()
    }
}

/// THE mapping from checked details to the keys of the API's `payout` object.
///
/// ASSUMED: LuxCore does not document these keys (`PayoutDetails` is a free-form object
/// in the spec). `account_number`, `clabe` and `payid` are the names the docs' examples
/// and `bank_details` use; the others follow their style. This is the only place that
/// names them: change it here when LuxCore confirms others. Only called on a
/// [`Recipient::normalized`] recipient.
fn api_fields(recipient: &Recipient) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: &str| {
        out.insert(key.to_owned(), Value::String(value.to_owned()));
    };
    match &recipient.account {
        Account::Cbu(number) | Account::Cvu(number) | Account::Alias(number) => {
            put("account_number", number);
            let kind = match &recipient.account {
                Account::Cbu(_) => "cbu",
                Account::Cvu(_) => "cvu",
                _ => "alias",
            };
            put("account_type", kind);
        }
        Account::Clabe(clabe) => put("clabe", clabe),
        Account::AuBank { bsb, account } => {
            put("bsb", bsb);
            put("account_number", account);
        }
        Account::PayId(kind, payid) => {
            put("payid", payid);
            let kind = match kind {
                PayIdKind::Email => "email",
                PayIdKind::Phone => "phone",
                PayIdKind::Abn => "abn",
            };
            put("payid_type", kind);
        }
        Account::TrIban(iban) => {
            put("account_number", iban);
            put("account_type", "iban");
        }
        Account::UyBank { bank, account } => {
            put("bank", bank);
            put("account_number", account);
        }
        Account::LkBank {
            bank,
            branch,
            account,
        } => {
            put("bank_code", bank);
            put("branch_code", branch);
            put("account_number", account);
        }
    }
    if let Some(name) = &recipient.holder_name {
        put("account_holder", name);
    }
    if let Some(id) = &recipient.holder_id {
        let (kind, number) = match id {
            HolderId::Cuit(n) => ("cuit", n),
            HolderId::Cuil(n) => ("cuil", n),
            HolderId::UyCi(n) => ("ci", n),
            HolderId::UyRut(n) => ("rut", n),
            HolderId::LkNic(n) => ("nic", n),
        };
        put("document_type", kind);
        put("document_number", number);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_rail_only() {
        let r = Recipient::cvu("0000003100099999999994")
            .holder_name("Juana Pérez")
            .cuil("27123456780");
        let text = format!("{r:?}");
        assert!(text.contains("CVU") && text.contains("CUIL"), "{text}");
        for secret in ["99999", "Juana", "12345678"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn mapping_per_rail() {
        let map = |r: Recipient| serde_json::to_value(r.to_payout().unwrap().0).unwrap();
        assert_eq!(
            map(Recipient::cbu("2850590-9 4009041813520-1")
                .holder_name(" Juan ")
                .cuit("20-12345678-6")),
            serde_json::json!({"account_number": "2850590940090418135201", "account_type": "cbu",
                "account_holder": "Juan", "document_type": "cuit", "document_number": "20123456786"})
        );
        assert_eq!(
            map(Recipient::clabe("032 180 00011835971 9")),
            serde_json::json!({"clabe": "032180000118359719"})
        );
        assert_eq!(
            map(Recipient::au_bank("062-000", "1234 5678")),
            serde_json::json!({"bsb": "062000", "account_number": "12345678"})
        );
        assert_eq!(
            map(Recipient::payid_phone("0412 345 678")),
            serde_json::json!({"payid": "+61412345678", "payid_type": "phone"})
        );
        assert_eq!(
            map(Recipient::tr_iban("tr33 0006 1005 1978 6457 8413 26")),
            serde_json::json!({"account_number": "TR330006100519786457841326", "account_type": "iban"})
        );
        assert_eq!(
            map(Recipient::uy_bank("BROU", "001-234567-00001").uy_ci("1.234.567-2")),
            serde_json::json!({"bank": "BROU", "account_number": "00123456700001",
                "document_type": "ci", "document_number": "12345672"})
        );
        assert_eq!(
            map(Recipient::lk_bank("7010", "001", "12345678").lk_nic("853400937v")),
            serde_json::json!({"bank_code": "7010", "branch_code": "001", "account_number": "12345678",
                "document_type": "nic", "document_number": "853400937V"})
        );
    }

    #[test]
    fn holder_id_of_another_market_is_refused() {
        let err = Recipient::clabe("032180000118359719")
            .cuit("20123456786")
            .validate()
            .unwrap_err();
        assert_eq!(err.field(), "holder_id");
        assert_eq!(err.rule(), "a CUIT does not go with a CLABE");
    }

    #[test]
    fn currency_must_match_the_market() {
        let err = Recipient::clabe("032180000118359719")
            .payout_for(&Currency::ARS)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "payout currency: a CLABE is for MXN payouts, this withdrawal is in ARS"
        );
        assert!(
            Recipient::clabe("032180000118359719")
                .payout_for(&Currency::MXN)
                .is_ok()
        );
    }
}
