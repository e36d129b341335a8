//! A tiny given/when/then harness for aggregates.
#![allow(clippy::needless_pass_by_value)] // The DSL takes values so that tests read as sentences.

use rewind_core::Aggregate;

pub struct Scenario<A: Aggregate> {
    state: A,
}

impl<A: Aggregate> Scenario<A> {
    /// The aggregate after these events.
    pub fn given(events: impl IntoIterator<Item = A::Event>) -> Self {
        let mut state = A::default();
        for event in events {
            state.apply(&event).expect("given events apply");
        }
        Self { state }
    }

    pub fn when(self, command: A::Command) -> Outcome<A> {
        let result = self.state.decide(&command);
        Outcome { result }
    }
}

pub struct Outcome<A: Aggregate> {
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Outcome<A>
where
    A::Event: PartialEq,
{
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) {
        let expected: Vec<_> = expected.into_iter().collect();
        match self.result {
            Ok(events) => assert_eq!(events, expected),
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    #[track_caller]
    pub fn then_err(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!("expected error {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected),
        }
    }
}
