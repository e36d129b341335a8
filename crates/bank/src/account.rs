//! The `BankAccount` aggregate: opens, takes deposits and withdrawals, freezes, closes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smol_str::SmolStr;
use thiserror::Error;

use rewind_core::{Aggregate, ApplyError, DomainEvent, Payload, Violation};

use crate::codec::{decode_payload, encode_payload};

/// A bank account's state, as the debugger shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BankAccount {
    pub holder: String,
    pub currency: String,
    pub balance_cents: i64,
    pub status: AccountStatus,
    /// Why the account is frozen, while it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frozen_reason: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// No `AccountOpened` yet.
    #[default]
    NotOpened,
    Open,
    Frozen,
    Closed,
}

/// What a caller asks a bank account to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountCommand {
    OpenAccount {
        holder: String,
        currency: String,
    },
    DepositMoney {
        amount_cents: i64,
        reference: SmolStr,
    },
    WithdrawMoney {
        amount_cents: i64,
        reference: SmolStr,
    },
    /// Records a withdrawal the account could not honour (a compensating fact, used by the saga).
    RecordWithdrawalRejection {
        amount_cents: i64,
        reason: String,
    },
    FreezeAccount {
        reason: String,
    },
    UnfreezeAccount,
    CloseAccount,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOpened {
    pub holder: String,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyDeposited {
    pub amount_cents: i64,
    pub reference: SmolStr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyWithdrawn {
    pub amount_cents: i64,
    pub reference: SmolStr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRejected {
    pub amount_cents: i64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFrozen {
    pub reason: String,
}

/// What happened to a bank account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountOpened(AccountOpened),
    MoneyDeposited(MoneyDeposited),
    MoneyWithdrawn(MoneyWithdrawn),
    WithdrawalRejected(WithdrawalRejected),
    AccountFrozen(AccountFrozen),
    AccountUnfrozen,
    AccountClosed,
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::AccountOpened(_) => "AccountOpened",
            Self::MoneyDeposited(_) => "MoneyDeposited",
            Self::MoneyWithdrawn(_) => "MoneyWithdrawn",
            Self::WithdrawalRejected(_) => "WithdrawalRejected",
            Self::AccountFrozen(_) => "AccountFrozen",
            Self::AccountUnfrozen => "AccountUnfrozen",
            Self::AccountClosed => "AccountClosed",
        }
    }

    fn schema_version(&self) -> u32 {
        match self {
            // v1 held a float of major units; see `upcast::MoneyDepositedV1`.
            Self::MoneyDeposited(_) => 2,
            _ => 1,
        }
    }

    fn decode(event_type: &str, data: &Payload) -> Result<Self, ApplyError> {
        Ok(match event_type {
            "AccountOpened" => Self::AccountOpened(decode_payload(event_type, data)?),
            "MoneyDeposited" => Self::MoneyDeposited(decode_payload(event_type, data)?),
            "MoneyWithdrawn" => Self::MoneyWithdrawn(decode_payload(event_type, data)?),
            "WithdrawalRejected" => Self::WithdrawalRejected(decode_payload(event_type, data)?),
            "AccountFrozen" => Self::AccountFrozen(decode_payload(event_type, data)?),
            "AccountUnfrozen" => Self::AccountUnfrozen,
            "AccountClosed" => Self::AccountClosed,
            _ => {
                return Err(ApplyError::UnknownEventType {
                    stream_type: BankAccount::STREAM_TYPE.into(),
                    event_type: event_type.into(),
                });
            }
        })
    }

    fn encode(&self) -> Value {
        match self {
            Self::AccountOpened(e) => encode_payload(e),
            Self::MoneyDeposited(e) => encode_payload(e),
            Self::MoneyWithdrawn(e) => encode_payload(e),
            Self::WithdrawalRejected(e) => encode_payload(e),
            Self::AccountFrozen(e) => encode_payload(e),
            Self::AccountUnfrozen | Self::AccountClosed => Value::Object(serde_json::Map::new()),
        }
    }
}

/// Why a bank account refused a command or an event.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum BankAccountError {
    #[error("the account is already open")]
    AlreadyOpened,
    #[error("the account is not open yet")]
    NotOpened,
    #[error("the holder's name is empty")]
    EmptyHolder,
    #[error("amount must be positive, got {amount_cents} cents")]
    NonPositiveAmount { amount_cents: i64 },
    #[error("insufficient funds: balance {balance_cents} cents, requested {requested_cents} cents")]
    InsufficientFunds { balance_cents: i64, requested_cents: i64 },
    #[error("the account is frozen")]
    Frozen,
    #[error("the account is closed")]
    Closed,
    #[error("the account is not frozen")]
    NotFrozen,
    #[error("only an account with a zero balance can close; balance is {balance_cents} cents")]
    NonZeroBalance { balance_cents: i64 },
}

impl BankAccount {
    /// Commands that move money or change status need an open (not frozen, not closed) account.
    fn ensure_active(&self) -> Result<(), BankAccountError> {
        match self.status {
            AccountStatus::NotOpened => Err(BankAccountError::NotOpened),
            AccountStatus::Frozen => Err(BankAccountError::Frozen),
            AccountStatus::Closed => Err(BankAccountError::Closed),
            AccountStatus::Open => Ok(()),
        }
    }
}

fn ensure_positive(amount_cents: i64) -> Result<(), BankAccountError> {
    if amount_cents > 0 {
        Ok(())
    } else {
        Err(BankAccountError::NonPositiveAmount { amount_cents })
    }
}

impl Aggregate for BankAccount {
    const STREAM_TYPE: &'static str = "BankAccount";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = BankAccountError;
    /// `(status, balance_cents)` before an event.
    type Watched = (AccountStatus, i64);

    fn decide(&self, command: &AccountCommand) -> Result<Vec<AccountEvent>, BankAccountError> {
        use AccountCommand as C;
        let event = match command {
            C::OpenAccount { holder, currency } => {
                if self.status != AccountStatus::NotOpened {
                    return Err(BankAccountError::AlreadyOpened);
                }
                if holder.trim().is_empty() {
                    return Err(BankAccountError::EmptyHolder);
                }
                AccountEvent::AccountOpened(AccountOpened {
                    holder: holder.clone(),
                    currency: currency.clone(),
                })
            }
            C::DepositMoney {
                amount_cents,
                reference,
            } => {
                self.ensure_active()?;
                ensure_positive(*amount_cents)?;
                AccountEvent::MoneyDeposited(MoneyDeposited {
                    amount_cents: *amount_cents,
                    reference: reference.clone(),
                })
            }
            C::WithdrawMoney {
                amount_cents,
                reference,
            } => {
                self.ensure_active()?;
                ensure_positive(*amount_cents)?;
                if *amount_cents > self.balance_cents {
                    return Err(BankAccountError::InsufficientFunds {
                        balance_cents: self.balance_cents,
                        requested_cents: *amount_cents,
                    });
                }
                AccountEvent::MoneyWithdrawn(MoneyWithdrawn {
                    amount_cents: *amount_cents,
                    reference: reference.clone(),
                })
            }
            C::RecordWithdrawalRejection { amount_cents, reason } => {
                // A frozen account still records what it refused; a closed one records nothing.
                match self.status {
                    AccountStatus::NotOpened => return Err(BankAccountError::NotOpened),
                    AccountStatus::Closed => return Err(BankAccountError::Closed),
                    AccountStatus::Open | AccountStatus::Frozen => {}
                }
                AccountEvent::WithdrawalRejected(WithdrawalRejected {
                    amount_cents: *amount_cents,
                    reason: reason.clone(),
                })
            }
            C::FreezeAccount { reason } => {
                self.ensure_active()?;
                AccountEvent::AccountFrozen(AccountFrozen { reason: reason.clone() })
            }
            C::UnfreezeAccount => match self.status {
                AccountStatus::Frozen => AccountEvent::AccountUnfrozen,
                AccountStatus::NotOpened => return Err(BankAccountError::NotOpened),
                AccountStatus::Closed => return Err(BankAccountError::Closed),
                AccountStatus::Open => return Err(BankAccountError::NotFrozen),
            },
            C::CloseAccount => {
                self.ensure_active()?;
                if self.balance_cents != 0 {
                    return Err(BankAccountError::NonZeroBalance {
                        balance_cents: self.balance_cents,
                    });
                }
                AccountEvent::AccountClosed
            }
        };
        Ok(vec![event])
    }

    /// Events are facts: `apply` folds what was recorded, even when a rule was bypassed (a
    /// withdrawal beyond the balance, activity after closing); those show up as broken
    /// invariants. It refuses only what cannot be folded at all: anything before the account
    /// was opened, or a second opening.
    fn apply(&mut self, event: &AccountEvent) -> Result<(), BankAccountError> {
        if let AccountEvent::AccountOpened(opened) = event {
            if self.status != AccountStatus::NotOpened {
                return Err(BankAccountError::AlreadyOpened);
            }
            self.holder.clone_from(&opened.holder);
            self.currency.clone_from(&opened.currency);
            self.status = AccountStatus::Open;
            return Ok(());
        }
        if self.status == AccountStatus::NotOpened {
            return Err(BankAccountError::NotOpened);
        }
        match event {
            AccountEvent::AccountOpened(_) | AccountEvent::WithdrawalRejected(_) => {}
            AccountEvent::MoneyDeposited(e) => self.balance_cents += e.amount_cents,
            AccountEvent::MoneyWithdrawn(e) => self.balance_cents -= e.amount_cents,
            AccountEvent::AccountFrozen(e) => {
                self.status = AccountStatus::Frozen;
                self.frozen_reason = Some(e.reason.clone());
            }
            AccountEvent::AccountUnfrozen => {
                self.status = AccountStatus::Open;
                self.frozen_reason = None;
            }
            AccountEvent::AccountClosed => self.status = AccountStatus::Closed,
        }
        Ok(())
    }

    fn watched(&self) -> (AccountStatus, i64) {
        (self.status, self.balance_cents)
    }

    fn broken_invariants(before: &(AccountStatus, i64), event: &AccountEvent, after: &Self) -> Vec<Violation> {
        let &(status_before, balance_before) = before;
        let mut broken = Vec::new();
        if status_before == AccountStatus::Closed {
            broken.push(Violation {
                invariant: "no_activity_after_close".into(),
                message: format!("{} recorded after AccountClosed", event.event_type()),
            });
        }
        if after.balance_cents < 0 && balance_before >= 0 {
            broken.push(Violation {
                invariant: "balance_never_negative".into(),
                message: format!(
                    "balance went negative after {}: from {} to {} cents",
                    event.event_type(),
                    balance_before,
                    after.balance_cents
                ),
            });
        }
        broken
    }
}
