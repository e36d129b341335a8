#!/usr/bin/env node
'use strict';
// The bank account of the TypeScript guides Rewind grew from, as a Rewind domain plug-in: an
// account is opened for a holder, money is deposited and withdrawn, and the balance is what
// they leave. A withdrawal beyond the balance is recorded as a fact (the events say it
// happened), and breaks the invariant that a balance never goes below zero. The account
// balances read model keeps each account's holder, currency and balance.
//
//   rewind verify sample-data/bank.sqlite --plugin 'node plugins/js/examples/bank.js'
//
// The guides' events carry `amount`; Rewind's sample records `amount_cents` (integer cents),
// with its oldest deposits in a v1 shape (`amount`, a float of major units), upcast here.

const { serve, Rejected } = require('../rewind-plugin');

const EVENTS = [
  'AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn', 'WithdrawalRejected',
  'AccountFrozen', 'AccountUnfrozen', 'AccountClosed',
];

function cents(data, type) {
  const amount = data.amount_cents;
  if (!Number.isInteger(amount)) throw new Rejected(`${type} has no whole amount_cents`, 'invalid_payload');
  return amount;
}

serve({
  name: 'bank-js',
  version: '1.0.0',
  aggregates: {
    BankAccount: {
      claims: { categories: ['account'] },
      events: EVENTS,
      initial: () => ({ holder: null, currency: null, balance_cents: 0, status: 'not opened' }),
      apply(state, event) {
        const data = event.data || {};
        switch (event.type) {
          case 'AccountOpened':
            if (state.status !== 'not opened') throw new Rejected('the account is already open');
            return { ...state, holder: data.holder, currency: data.currency, status: 'open' };
          case 'MoneyDeposited':
            if (state.status === 'not opened') throw new Rejected('no account to deposit to');
            return { ...state, balance_cents: state.balance_cents + cents(data, event.type) };
          case 'MoneyWithdrawn':
            if (state.status === 'not opened') throw new Rejected('no account to withdraw from');
            return { ...state, balance_cents: state.balance_cents - cents(data, event.type) };
          case 'WithdrawalRejected':
            return state;
          case 'AccountFrozen':
            return { ...state, status: 'frozen' };
          case 'AccountUnfrozen':
            return { ...state, status: 'open' };
          case 'AccountClosed':
            return { ...state, status: 'closed' };
          default:
            throw new Rejected(`${event.type} is not a bank account event`, 'unknown_event_type');
        }
      },
      invariants: {
        balance_never_negative: {
          description: "an account's balance never goes below zero",
          holds: (state) => state.balance_cents >= 0,
          message: (state, event) => `balance went negative after ${event.type}: ${state.balance_cents} cents`,
        },
      },
    },
  },
  projections: {
    account_balances: {
      key: 'account id',
      reads: { categories: ['account'] },
      apply(rows, event) {
        const row = rows.get(event.streamId) || { holder: null, currency: null, balance_cents: 0 };
        const data = event.data || {};
        switch (event.type) {
          case 'AccountOpened':
            rows.set(event.streamId, { ...row, holder: data.holder, currency: data.currency });
            break;
          case 'MoneyDeposited':
            rows.set(event.streamId, { ...row, balance_cents: row.balance_cents + data.amount_cents });
            break;
          case 'MoneyWithdrawn':
            rows.set(event.streamId, { ...row, balance_cents: row.balance_cents - data.amount_cents });
            break;
          default:
        }
      },
    },
  },
  upcasters: {
    // v1: `amount`, a float of major units; v2: integer cents.
    MoneyDeposited: {
      1: (data) => ({ amount_cents: Math.round(data.amount * 100), reference: data.reference || '' }),
    },
  },
  // Balances are cents of the currency beside them: Rewind shows them as money.
  money: { balance_cents: 'currency' },
});
