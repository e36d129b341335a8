//! Which domains replay a store: the built-in ones, a plug-in's (started from a command the
//! user gave: on the command line, or in the app, remembered in their own preferences), and
//! the names the user picked. A plug-in that cannot start, or fails while a store is indexed,
//! is left out and said: the streams it claimed fold generically, labelled so.

use std::sync::Arc;
use std::time::Duration;

use rewind_core::{AggregateClaim, AggregateState, Domain, DomainSet, FoldError, GenericState};
use rewind_plugin::PluginDomain;

/// What the user chose.
#[derive(Clone)]
pub struct DomainChoice {
    pub builtin: Arc<DomainSet>,
    /// A plug-in's command (`node bank.js`), run ahead of the built-in domains.
    pub plugin: Option<String>,
    /// Only these domains (names; `generic` alone for the generic fold); all when empty.
    pub only: Vec<String>,
    pub timeout: Duration,
}

/// The domains a choice resolved to.
#[derive(Clone)]
pub struct Resolved {
    pub domains: Arc<DomainSet>,
    /// The running plug-in, if one was asked for and started.
    pub plugin: Option<PluginDomain>,
    /// Why the plug-in asked for is not among the domains.
    pub plugin_error: Option<FoldError>,
}

impl DomainChoice {
    pub fn builtin(builtin: Arc<DomainSet>) -> Self {
        Self {
            builtin,
            plugin: None,
            only: Vec::new(),
            timeout: rewind_plugin::DEFAULT_TIMEOUT,
        }
    }

    /// Whether `name` is a built-in domain's (or one picked only by name).
    fn is_builtin(&self, name: &str) -> bool {
        self.builtin.domain(name).is_some() || crate::on_request().iter().any(|d| d.name() == name)
    }

    /// Starts the plug-in, if there is one, and picks the domains. A plug-in that does not
    /// start is said, not fatal; a name that is none of the domains is an error.
    pub fn resolve(&self) -> Result<Resolved, String> {
        let mut domains = Arc::clone(&self.builtin);
        let mut plugin = None;
        let mut plugin_error = None;
        if let Some(command) = &self.plugin {
            match PluginDomain::start(command, self.timeout) {
                Ok(started) if self.is_builtin(&started.handshake().name) => {
                    // Dropping the only handle stops the process.
                    plugin_error = Some(FoldError::new(format!(
                        "plug-in `{command}` names itself `{}`, the name of a domain built into Rewind: a plug-in needs a name of its own",
                        started.handshake().name
                    )));
                }
                Ok(started) => {
                    domains = Arc::new(domains.with_first(Arc::new(started.clone())));
                    plugin = Some(started);
                }
                Err(error) => plugin_error = Some(error),
            }
        }
        if !self.only.is_empty() {
            // Domains that replay only when picked by name join the rest first.
            let mut all: Vec<Arc<dyn Domain>> = domains.domains().to_vec();
            for extra in crate::on_request() {
                if self.only.iter().any(|n| n == extra.name()) && domains.domain(extra.name()).is_none() {
                    all.push(extra);
                }
            }
            let domains_with_extras = DomainSet::shared(all);
            let names: Vec<String> = self
                .only
                .iter()
                .filter(|name| {
                    plugin_error.is_none() || domains_with_extras.domain(name).is_some() || *name == "generic"
                })
                .cloned()
                .collect();
            domains = Arc::new(domains_with_extras.only(&names)?);
        }
        Ok(Resolved {
            domains,
            plugin,
            plugin_error,
        })
    }
}

impl Resolved {
    /// The same domains, with the plug-in's aggregates (which failed with `fault`) claiming
    /// what they claimed and folding it generically, labelled so.
    pub fn without_plugin(&self, fault: &FoldError) -> Arc<DomainSet> {
        let Some(plugin) = &self.plugin else {
            return Arc::clone(&self.domains);
        };
        let name = plugin.handshake().name.clone();
        let domains: Vec<Arc<dyn Domain>> = self
            .domains
            .domains()
            .iter()
            .map(|domain| {
                if domain.name() == name {
                    Arc::new(FailedPlugin {
                        label: format!("generic fold (plug-in {name} failed)"),
                        claims: domain.aggregates(),
                        fault: fault.message.clone(),
                    }) as Arc<dyn Domain>
                } else {
                    Arc::clone(domain)
                }
            })
            .collect();
        Arc::new(DomainSet::shared(domains))
    }

    /// The domains, for people: `bank-js 1.0.0 (plug-in), bank`, or `generic fold`.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .domains
            .domains()
            .iter()
            .map(|domain| match &self.plugin {
                Some(plugin) if plugin.handshake().name == domain.name() => {
                    format!("{} {} (plug-in)", domain.name(), plugin.handshake().version)
                }
                _ => domain.name().to_owned(),
            })
            .collect();
        if names.is_empty() {
            "generic fold".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// A plug-in that failed: what it claimed still routes to it, and folds generically.
struct FailedPlugin {
    label: String,
    claims: Vec<AggregateClaim>,
    fault: String,
}

impl Domain for FailedPlugin {
    fn name(&self) -> &str {
        &self.label
    }

    fn aggregates(&self) -> Vec<AggregateClaim> {
        self.claims.clone()
    }

    fn new_aggregate(&self, _aggregate: &str) -> Option<Box<dyn AggregateState>> {
        Some(Box::new(GenericState::default()))
    }

    fn route_is_generic(&self, _route: u32) -> bool {
        true
    }
}

impl std::fmt::Debug for FailedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label, self.fault)
    }
}
