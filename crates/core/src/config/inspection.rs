//! `[inspect]` (the default for every route) and `[route.inspect]` (a route's own
//! settings): the [`crate::inspect::InspectPolicy`] of each route. A route's table is
//! laid over the default key by key, so a route can add an exclusion list or change
//! the mode without repeating the rest.

use serde::Deserialize as _;
use toml::Spanned;

use super::Validator;
use crate::inspect::InspectPolicy;

impl Validator<'_> {
    /// The policy from `base` overlaid with `over`, reported under `key` on failure.
    pub(super) fn inspect_policy(
        &mut self,
        base: Option<&Spanned<toml::Table>>,
        over: Option<&Spanned<toml::Table>>,
        key: &str,
    ) -> InspectPolicy {
        let mut table = base.map(|b| b.get_ref().clone()).unwrap_or_default();
        if let Some(o) = over {
            for (k, v) in o.get_ref() {
                table.insert(k.clone(), v.clone());
            }
        }
        let span = over.or(base).map(Spanned::span).unwrap_or(0..0);
        let policy = match InspectPolicy::deserialize(toml::Value::Table(table)) {
            Ok(p) => p,
            Err(e) => {
                let message = e.message().replace('\n', "; ");
                self.report(&span, key, message);
                return InspectPolicy::default();
            }
        };
        if let Err(errors) = policy.validate() {
            for e in errors {
                self.report(&span, key, e.to_string());
            }
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use super::super::load_str;
    use crate::inspect::Mode;

    const BASE: &str = "[[upstream]]\nname = \"app\"\nurl = \"http://127.0.0.1:5080\"\n";

    #[test]
    fn route_settings_overlay_the_default() {
        let cfg = load_str(
            &format!(
                "{BASE}[inspect]\nthreshold = 7\nmode = \"detect-only\"\n\
                 [[route]]\npath = \"/a\"\n[[route.allow]]\nanyone = true\n\
                 [[route]]\npath = \"/b\"\n[route.inspect]\nmode = \"block\"\n\
                 exclusions = [{{ parameter = \"bio\", detectors = [\"xss\"] }}]\n\
                 [[route.allow]]\nanyone = true\n"
            ),
            "c.toml",
        )
        .expect("valid");
        let a = &cfg.policy.routes[0].inspect;
        assert_eq!((a.mode, a.threshold), (Mode::DetectOnly, 7));
        let b = &cfg.policy.routes[1].inspect;
        assert_eq!((b.mode, b.threshold), (Mode::Block, 7));
        assert_eq!(b.exclusions.len(), 1);
    }

    #[test]
    fn bad_settings_point_at_the_route() {
        let e = load_str(
            &format!(
                "{BASE}[[route]]\npath = \"/a\"\n[route.inspect]\nthreshold = 0\nbogus = 1\n\
                 [[route.allow]]\nanyone = true\n"
            ),
            "c.toml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("route[0].inspect"), "{e}");
        assert!(e.contains("bogus"), "{e}");
        let e = load_str(&format!("{BASE}[inspect]\nthreshold = 0\n"), "c.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("c.toml:4:1: inspect"), "{e}");
    }

    #[test]
    fn every_detector_name_is_known_to_weights_and_exclusions() {
        use crate::inspect::Detector;
        for d in Detector::ALL {
            let cfg = load_str(
                &format!(
                    "{BASE}[inspect]\nweights = {{ {d} = 50 }}\n\
                     exclusions = [{{ parameter = \"q\", detectors = [\"{d}\"] }}]\n"
                ),
                "c.toml",
            )
            .unwrap_or_else(|e| panic!("{d}: {e}"));
            assert_eq!(cfg.inspect_defaults.weights.get(&d), Some(&50), "{d}");
            assert_eq!(cfg.inspect_defaults.exclusions[0].detectors, vec![d]);
        }
        // A misspelt name is refused, with the key's location.
        let e = load_str(
            &format!("{BASE}[inspect]\nweights = {{ nosqli = 50 }}\n"),
            "c.toml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("nosqli") && e.contains("c.toml:4"), "{e}");
    }
}
