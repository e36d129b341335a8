//! A bank account written with [cqrs-es](https://docs.rs/cqrs-es): its commands, its events,
//! its aggregate and a read model, and nothing of Rewind.
//!
//! Two programs use this crate as it is: the fixture writer (`fixtures/sqlite-es`), which runs
//! the commands through `cqrs_es::CqrsFramework` into a `sqlite-es` store, and Rewind's example
//! (`examples/cqrs-bank`), which replays that store through the same `apply` and the same
//! `View::update`.
//!
//! It carries a bug on purpose, as real systems do: [`BankCommand::ChargeFee`] forgets the
//! funds check that [`BankCommand::WithdrawMoney`] makes, so a fee can take an account below
//! zero. The fixture's `incident.sqlite` records that happening; Rewind finds the event.

use std::fmt;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope, View};
use serde::{Deserialize, Serialize};

/// One bank account's state, folded from its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankAccount {
    pub owner: Option<String>,
    pub balance: i64,
}

/// What a client or a scheduled job asks of an account.
#[derive(Debug)]
pub enum BankCommand {
    OpenAccount {
        owner: String,
    },
    DepositMoney {
        amount: i64,
    },
    WithdrawMoney {
        amount: i64,
    },
    /// The monthly fee, charged by a scheduled job.
    ChargeFee {
        amount: i64,
    },
}

/// What happened to an account. Stored by `sqlite-es` as serde's externally tagged JSON
/// (`{"MoneyDeposited":{"amount":100}}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankAccountEvent {
    AccountOpened { owner: String },
    MoneyDeposited { amount: i64 },
    MoneyWithdrawn { amount: i64 },
    FeeCharged { amount: i64 },
}

impl BankAccountEvent {
    /// Every event type, as `event_type` names them.
    pub const TYPES: [&'static str; 4] = ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "FeeCharged"];
}

impl DomainEvent for BankAccountEvent {
    fn event_type(&self) -> String {
        let index = match self {
            Self::AccountOpened { .. } => 0,
            Self::MoneyDeposited { .. } => 1,
            Self::MoneyWithdrawn { .. } => 2,
            Self::FeeCharged { .. } => 3,
        };
        Self::TYPES[index].to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a command was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct BankError(pub String);

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BankError {}

impl Aggregate for BankAccount {
    const TYPE: &'static str = "BankAccount";
    type Command = BankCommand;
    type Event = BankAccountEvent;
    type Error = BankError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            BankCommand::OpenAccount { owner } => {
                if self.owner.is_some() {
                    return Err(BankError("account already open".into()));
                }
                BankAccountEvent::AccountOpened { owner }
            }
            BankCommand::DepositMoney { amount } => BankAccountEvent::MoneyDeposited { amount },
            BankCommand::WithdrawMoney { amount } => {
                if amount > self.balance {
                    return Err(BankError("insufficient funds".into()));
                }
                BankAccountEvent::MoneyWithdrawn { amount }
            }
            // The bug: no funds check here.
            BankCommand::ChargeFee { amount } => BankAccountEvent::FeeCharged { amount },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            BankAccountEvent::AccountOpened { owner } => self.owner = Some(owner),
            BankAccountEvent::MoneyDeposited { amount } => self.balance += amount,
            BankAccountEvent::MoneyWithdrawn { amount } | BankAccountEvent::FeeCharged { amount } => {
                self.balance -= amount;
            }
        }
    }
}

/// The read model a bank's back office reads: an account's owner, balance and activity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub owner: Option<String>,
    pub balance: i64,
    pub deposits: u32,
    pub withdrawals: u32,
    pub fees_charged: i64,
}

impl View<BankAccount> for AccountSummary {
    fn update(&mut self, event: &EventEnvelope<BankAccount>) {
        match &event.payload {
            BankAccountEvent::AccountOpened { owner } => self.owner = Some(owner.clone()),
            BankAccountEvent::MoneyDeposited { amount } => {
                self.balance += amount;
                self.deposits += 1;
            }
            BankAccountEvent::MoneyWithdrawn { amount } => {
                self.balance -= amount;
                self.withdrawals += 1;
            }
            BankAccountEvent::FeeCharged { amount } => {
                self.balance -= amount;
                self.fees_charged += amount;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    type Account = TestFramework<BankAccount>;

    #[test]
    fn a_withdrawal_beyond_the_balance_is_refused() {
        Account::with(())
            .given(vec![
                BankAccountEvent::AccountOpened { owner: "Alice".into() },
                BankAccountEvent::MoneyDeposited { amount: 20 },
            ])
            .when(BankCommand::WithdrawMoney { amount: 30 })
            .then_expect_error(BankError("insufficient funds".into()));
    }

    /// The planted bug: the fee is charged whatever the balance.
    #[test]
    fn a_fee_beyond_the_balance_is_charged() {
        Account::with(())
            .given(vec![
                BankAccountEvent::AccountOpened { owner: "Carol".into() },
                BankAccountEvent::MoneyDeposited { amount: 5 },
            ])
            .when(BankCommand::ChargeFee { amount: 10 })
            .then_expect_events(vec![BankAccountEvent::FeeCharged { amount: 10 }]);
    }
}
