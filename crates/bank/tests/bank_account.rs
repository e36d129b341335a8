//! `BankAccount` behaviour, as given/when/then sentences.

mod scenario;

use rewind_bank::account::*;
use rewind_core::Aggregate;
use scenario::Scenario;

fn opened(holder: &str) -> AccountEvent {
    AccountEvent::AccountOpened(AccountOpened {
        holder: holder.into(),
        currency: "EUR".into(),
    })
}
fn deposited(amount_cents: i64) -> AccountEvent {
    AccountEvent::MoneyDeposited(MoneyDeposited {
        amount_cents,
        reference: "d".into(),
    })
}
fn withdrawn(amount_cents: i64) -> AccountEvent {
    AccountEvent::MoneyWithdrawn(MoneyWithdrawn {
        amount_cents,
        reference: "w".into(),
    })
}

#[test]
fn opening_a_new_account_records_the_holder_and_currency() {
    Scenario::<BankAccount>::given([])
        .when(AccountCommand::OpenAccount {
            holder: "Ada".into(),
            currency: "EUR".into(),
        })
        .then([opened("Ada")]);
}

#[test]
fn opening_an_account_twice_is_rejected() {
    Scenario::<BankAccount>::given([opened("Ada")])
        .when(AccountCommand::OpenAccount {
            holder: "Ada".into(),
            currency: "EUR".into(),
        })
        .then_err(BankAccountError::AlreadyOpened);
}

#[test]
fn depositing_into_an_open_account_records_the_deposit() {
    Scenario::<BankAccount>::given([opened("Ada")])
        .when(AccountCommand::DepositMoney {
            amount_cents: 10_00,
            reference: "d".into(),
        })
        .then([deposited(10_00)]);
}

#[test]
fn depositing_a_non_positive_amount_is_rejected() {
    Scenario::<BankAccount>::given([opened("Ada")])
        .when(AccountCommand::DepositMoney {
            amount_cents: 0,
            reference: "d".into(),
        })
        .then_err(BankAccountError::NonPositiveAmount { amount_cents: 0 });
}

#[test]
fn depositing_before_opening_is_rejected() {
    Scenario::<BankAccount>::given([])
        .when(AccountCommand::DepositMoney {
            amount_cents: 5_00,
            reference: "d".into(),
        })
        .then_err(BankAccountError::NotOpened);
}

#[test]
fn withdrawing_within_the_balance_records_the_withdrawal() {
    Scenario::<BankAccount>::given([opened("Ada"), deposited(10_00)])
        .when(AccountCommand::WithdrawMoney {
            amount_cents: 10_00,
            reference: "w".into(),
        })
        .then([withdrawn(10_00)]);
}

#[test]
fn withdrawing_more_than_the_balance_is_rejected() {
    Scenario::<BankAccount>::given([opened("Ada"), deposited(10_00)])
        .when(AccountCommand::WithdrawMoney {
            amount_cents: 25_00,
            reference: "w".into(),
        })
        .then_err(BankAccountError::InsufficientFunds {
            balance_cents: 10_00,
            requested_cents: 25_00,
        });
}

#[test]
fn nothing_moves_on_a_frozen_account() {
    let frozen = AccountEvent::AccountFrozen(AccountFrozen {
        reason: "review".into(),
    });
    Scenario::<BankAccount>::given([opened("Ada"), deposited(10_00), frozen.clone()])
        .when(AccountCommand::WithdrawMoney {
            amount_cents: 1_00,
            reference: "w".into(),
        })
        .then_err(BankAccountError::Frozen);
    Scenario::<BankAccount>::given([opened("Ada"), frozen])
        .when(AccountCommand::DepositMoney {
            amount_cents: 1_00,
            reference: "d".into(),
        })
        .then_err(BankAccountError::Frozen);
}

#[test]
fn a_frozen_account_can_be_unfrozen() {
    let frozen = AccountEvent::AccountFrozen(AccountFrozen {
        reason: "review".into(),
    });
    Scenario::<BankAccount>::given([opened("Ada"), frozen])
        .when(AccountCommand::UnfreezeAccount)
        .then([AccountEvent::AccountUnfrozen]);
}

#[test]
fn unfreezing_an_open_account_is_rejected() {
    Scenario::<BankAccount>::given([opened("Ada")])
        .when(AccountCommand::UnfreezeAccount)
        .then_err(BankAccountError::NotFrozen);
}

#[test]
fn closing_needs_a_zero_balance() {
    Scenario::<BankAccount>::given([opened("Ada"), deposited(3_00)])
        .when(AccountCommand::CloseAccount)
        .then_err(BankAccountError::NonZeroBalance { balance_cents: 3_00 });
    Scenario::<BankAccount>::given([opened("Ada"), deposited(3_00), withdrawn(3_00)])
        .when(AccountCommand::CloseAccount)
        .then([AccountEvent::AccountClosed]);
}

#[test]
fn nothing_happens_on_a_closed_account() {
    Scenario::<BankAccount>::given([opened("Ada"), AccountEvent::AccountClosed])
        .when(AccountCommand::DepositMoney {
            amount_cents: 1_00,
            reference: "d".into(),
        })
        .then_err(BankAccountError::Closed);
}

#[test]
fn a_withdrawal_beyond_the_balance_that_was_recorded_anyway_breaks_the_balance_invariant() {
    // Given an account with 10.00, when a withdrawal of 25.00 that bypassed decide is applied,
    // then the state follows the fact and the invariant reports the transition.
    let mut account = BankAccount::default();
    account.apply(&opened("Ada")).unwrap();
    account.apply(&deposited(10_00)).unwrap();
    let before = account.watched();
    account.apply(&withdrawn(25_00)).unwrap();
    assert_eq!(account.balance_cents, -15_00);
    let broken = BankAccount::broken_invariants(&before, &withdrawn(25_00), &account);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].invariant, "balance_never_negative");
    // A later event while still negative is not a new violation.
    let still = account.watched();
    account.apply(&deposited(1_00)).unwrap();
    assert!(BankAccount::broken_invariants(&still, &deposited(1_00), &account).is_empty());
}

#[test]
fn activity_after_closing_breaks_the_no_activity_invariant() {
    let mut account = BankAccount::default();
    account.apply(&opened("Ada")).unwrap();
    account.apply(&AccountEvent::AccountClosed).unwrap();
    let before = account.watched();
    account.apply(&deposited(1_00)).unwrap();
    let broken = BankAccount::broken_invariants(&before, &deposited(1_00), &account);
    assert_eq!(broken[0].invariant, "no_activity_after_close");
}

#[test]
fn applying_an_event_before_the_account_opened_is_an_error() {
    let mut account = BankAccount::default();
    assert_eq!(account.apply(&deposited(1_00)), Err(BankAccountError::NotOpened));
}
