//! The contract against what is committed: the console's generated TypeScript.

#[test]
fn generated_the_consoles_hub_types() {
    testkit::generated("ui/src/generated/hub.ts", &contract::typescript::hub_ts());
}
