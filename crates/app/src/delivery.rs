//! Delivering the outbox: operator writes go to the hub in the order they were written, each
//! exactly once, and the call that queued a write hears what became of it.
//!
//! The rules, all here and unit-tested against a fake [`HubWriter`] and a real outbox file:
//! - one pass at a time, oldest first, only the writes of the signed-in hub and operator;
//! - a write the hub could not take now (unreachable, busy, session to renew) stops the pass,
//!   so nothing overtakes it; it is tried again on the next pass;
//! - a write the hub refuses for good is marked failed and kept for the operator to see; the
//!   pass goes on;
//! - each outcome is kept (a bounded number) for the call that queued the write.
//!
//! What this must not do: decide what may be queued (`hub_requests::classify` does), or know
//! how the hub is reached (the [`HubWriter`] does).

use crate::error::{AppError, Result};
use crate::outbox::{Outbox, OutboxItem, OutboxView};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

/// A future a [`HubWriter`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// One write to the hub: `method` on `/api/v1` + `path` with `body`; the hub's JSON answer.
pub trait HubWriter: Send + Sync {
    fn write<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        body: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<serde_json::Value>>;
}

/// What became of a write the console asked for.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum WriteOutcome {
    /// The hub has it; `value` is its answer.
    Delivered {
        #[ts(type = "unknown")]
        value: serde_json::Value,
    },
    /// The hub has it, taken by a delivery pass whose answer is no longer kept: the live feed
    /// brings the change.
    DeliveredWithoutAnswer,
    /// It waits in the outbox as `outbox_id` and is delivered exactly once when the hub is
    /// back.
    Queued { outbox_id: String },
}

/// What one pass did.
#[derive(Debug, Default, PartialEq)]
pub struct Pass {
    /// Outbox ids the hub took, in order.
    pub delivered: Vec<String>,
    /// Whether anything waited (the console's view of the outbox may have changed).
    pub ran: bool,
    /// Something the operator or IT must hear: the outbox could not be read or written.
    pub problem: Option<String>,
}

/// Outcomes kept for the calls that queued them; a call collects its own at once, so this many
/// is only reached when calls are abandoned.
const KEPT_OUTCOMES: usize = 256;

#[derive(Debug)]
pub struct Delivery {
    outbox: Option<Outbox>,
    /// Outcomes of deliveries, by outbox id, until the write's caller collects them.
    results: Mutex<BTreeMap<String, std::result::Result<serde_json::Value, AppError>>>,
    /// One delivery pass at a time keeps the outbox's order.
    delivering: tokio::sync::Mutex<()>,
}

impl Delivery {
    /// Delivery through `outbox`; without one (it could not be opened), writes cannot be queued.
    pub fn new(outbox: Option<Outbox>) -> Self {
        Self {
            outbox,
            results: Mutex::new(BTreeMap::new()),
            delivering: tokio::sync::Mutex::new(()),
        }
    }

    fn outbox(&self) -> Result<&Outbox> {
        self.outbox
            .as_ref()
            .ok_or_else(|| AppError::storage("the outbox is not available; see the problems shown"))
    }

    /// What waits, for the console.
    pub fn view(&self) -> Result<OutboxView> {
        match &self.outbox {
            Some(outbox) => outbox.view(),
            None => Ok(OutboxView { items: Vec::new() }),
        }
    }

    /// Stores a write; it is on disk when this returns.
    pub fn queue(&self, item: &OutboxItem) -> Result<()> {
        self.outbox()?.push(item)
    }

    /// Drops a write the operator gave up on.
    pub fn discard(&self, id: &str) -> Result<()> {
        self.outbox()?.discard(id)
    }

    /// Sends what waits for the session `signed` gives (the writer, the hub's address and the
    /// operator), by the rules above. The session is asked for once this pass has its turn: a
    /// pass that waited behind a slow one must not send with a session that ended meanwhile.
    pub async fn deliver<W: HubWriter>(
        &self,
        signed: impl FnOnce() -> Option<(W, String, String)>,
    ) -> Pass {
        let mut pass = Pass::default();
        let Some(outbox) = &self.outbox else {
            return pass;
        };
        let _one_pass = self.delivering.lock().await;
        let Some((writer, hub, username)) = signed() else {
            return pass;
        };
        let pending = match outbox.pending(&hub, &username) {
            Ok(pending) => pending,
            Err(error) => {
                pass.problem = Some(error.message);
                return pass;
            }
        };
        pass.ran = !pending.is_empty();
        for item in pending {
            let sent = writer.write(&item.method, &item.path, &item.body).await;
            let recorded = match sent {
                Ok(value) => {
                    self.keep(&item.id, Ok(value));
                    pass.delivered.push(item.id.clone());
                    outbox.delivered(&item.id)
                }
                Err(error) if error.code.is_transient() => {
                    tracing::info!(item = %item.summary, %error, "outbox waits for the hub");
                    if let Err(stored) = outbox.attempt_failed(&item.id, &error.message, false) {
                        pass.problem = Some(stored.message);
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(item = %item.summary, %error, "the hub refused a queued write");
                    let recorded = outbox.attempt_failed(&item.id, &error.message, true);
                    self.keep(&item.id, Err(error));
                    recorded
                }
            };
            if let Err(error) = recorded {
                pass.problem = Some(error.message);
                break;
            }
        }
        pass
    }

    /// What became of write `id` after a pass, for the call that queued it. A refusal is that
    /// call's error, and the write leaves the outbox (the operator hears it there and then).
    pub fn outcome(&self, id: &str) -> Result<WriteOutcome> {
        let result = self.results.lock().remove(id);
        match result {
            Some(Ok(value)) => Ok(WriteOutcome::Delivered { value }),
            Some(Err(refusal)) => {
                if let Err(error) = self.discard(id) {
                    tracing::warn!(%error, "a refused write stays in the outbox");
                }
                Err(refusal)
            }
            None => {
                // Delivered by a pass whose answer is no longer kept, or still waiting.
                let waiting = self
                    .view()
                    .map(|v| v.items.iter().any(|i| i.id == id && !i.failed))
                    .unwrap_or(true);
                Ok(if waiting {
                    WriteOutcome::Queued {
                        outbox_id: id.to_owned(),
                    }
                } else {
                    WriteOutcome::DeliveredWithoutAnswer
                })
            }
        }
    }

    fn keep(&self, id: &str, result: std::result::Result<serde_json::Value, AppError>) {
        let mut results = self.results.lock();
        if results.len() >= KEPT_OUTCOMES {
            results.pop_first();
        }
        results.insert(id.to_owned(), result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    /// Answers each path as told, and records what it was sent.
    #[derive(Default)]
    struct FakeHub {
        answers: BTreeMap<String, std::result::Result<serde_json::Value, ErrorCode>>,
        sent: Mutex<Vec<String>>,
        /// When set, each write waits for it: a slow hub.
        gate: Option<std::sync::Arc<tokio::sync::Notify>>,
    }

    impl FakeHub {
        fn answer(
            mut self,
            path: &str,
            answer: std::result::Result<serde_json::Value, ErrorCode>,
        ) -> Self {
            self.answers.insert(path.to_owned(), answer);
            self
        }
    }

    impl HubWriter for &FakeHub {
        fn write<'a>(
            &'a self,
            _method: &'a str,
            path: &'a str,
            _body: &'a serde_json::Value,
        ) -> BoxFuture<'a, Result<serde_json::Value>> {
            self.sent.lock().push(path.to_owned());
            let answer = match self.answers.get(path) {
                Some(Ok(value)) => Ok(value.clone()),
                Some(Err(code)) => Err(AppError::new(*code, format!("{code:?}"))),
                None => Ok(json!({"path": path})),
            };
            let gate = self.gate.clone();
            Box::pin(async move {
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                answer
            })
        }
    }

    fn item(id: &str, path: &str) -> OutboxItem {
        OutboxItem {
            id: id.into(),
            hub: "https://hub".into(),
            username: "guard".into(),
            method: "POST".into(),
            path: path.into(),
            body: json!({}),
            summary: format!("write {id}"),
            created_ms: 0,
            attempts: 0,
            last_error: None,
            failed: false,
        }
    }

    fn delivery(items: &[OutboxItem]) -> Delivery {
        let outbox =
            Outbox::open(&testkit::scratch("delivery").join("outbox.sqlite")).expect("an outbox");
        let delivery = Delivery::new(Some(outbox));
        for item in items {
            delivery.queue(item).expect("queued");
        }
        delivery
    }

    fn waiting(delivery: &Delivery) -> Vec<(String, bool)> {
        let view = delivery.view().expect("view");
        view.items.into_iter().map(|i| (i.id, i.failed)).collect()
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn writes_go_in_order_and_a_hub_that_cannot_take_one_now_stops_the_pass() {
        let d = delivery(&[item("a", "/a"), item("b", "/b"), item("c", "/c")]);
        let hub = FakeHub::default().answer("/b", Err(ErrorCode::HubUnreachable));
        let pass = run(d.deliver(|| Some((&hub, "https://hub".into(), "guard".into()))));
        assert_eq!(pass.delivered, ["a"]);
        assert!(pass.ran && pass.problem.is_none());
        assert_eq!(*hub.sent.lock(), ["/a", "/b"], "c does not overtake b");
        assert_eq!(waiting(&d), [("b".into(), false), ("c".into(), false)]);
        // The hub is back: b, then c.
        let back = FakeHub::default();
        let pass = run(d.deliver(|| Some((&back, "https://hub".into(), "guard".into()))));
        assert_eq!(pass.delivered, ["b", "c"]);
        assert!(waiting(&d).is_empty());
    }

    #[test]
    fn a_refusal_is_kept_as_failed_and_the_pass_goes_on() {
        let d = delivery(&[item("a", "/a"), item("b", "/b")]);
        let hub = FakeHub::default().answer("/a", Err(ErrorCode::HubForbidden));
        let pass = run(d.deliver(|| Some((&hub, "https://hub".into(), "guard".into()))));
        assert_eq!(pass.delivered, ["b"]);
        assert_eq!(waiting(&d), [("a".into(), true)]);
        // A failed write is not sent again.
        let again = FakeHub::default();
        assert!(
            run(d.deliver(|| Some((&again, "https://hub".into(), "guard".into()))))
                .delivered
                .is_empty()
        );
        assert!(again.sent.lock().is_empty());
    }

    #[test]
    fn the_caller_hears_the_answer_the_refusal_or_that_it_waits() {
        let d = delivery(&[item("a", "/a"), item("r", "/r"), item("w", "/w")]);
        let hub = FakeHub::default()
            .answer("/a", Ok(json!({"id": "inc-1"})))
            .answer("/r", Err(ErrorCode::HubBadRequest))
            .answer("/w", Err(ErrorCode::HubTimeout));
        run(d.deliver(|| Some((&hub, "https://hub".into(), "guard".into()))));
        assert_eq!(
            d.outcome("a").expect("delivered"),
            WriteOutcome::Delivered {
                value: json!({"id": "inc-1"})
            }
        );
        let refused = d.outcome("r").expect_err("refused");
        assert_eq!(refused.code, ErrorCode::HubBadRequest);
        assert_eq!(
            d.outcome("w").expect("waits"),
            WriteOutcome::Queued {
                outbox_id: "w".into()
            }
        );
        // The refusal was told to its caller, so it leaves the outbox; the waiting one stays.
        assert_eq!(waiting(&d), [("w".into(), false)]);
        // An answer is collected once; after that the write is known delivered, not queued.
        assert_eq!(
            d.outcome("a").expect("known"),
            WriteOutcome::DeliveredWithoutAnswer
        );
    }

    #[test]
    fn only_the_signed_in_operators_writes_go_and_kept_answers_are_bounded() {
        let mut other = item("x", "/x");
        other.username = "manager".into();
        let mut items = vec![other];
        items.extend((0..KEPT_OUTCOMES + 4).map(|n| item(&format!("n{n:04}"), "/n")));
        let d = delivery(&items);
        let back = FakeHub::default();
        let pass = run(d.deliver(|| Some((&back, "https://hub".into(), "guard".into()))));
        assert_eq!(pass.delivered.len(), KEPT_OUTCOMES + 4);
        assert_eq!(
            waiting(&d),
            [("x".into(), false)],
            "the manager's write waits"
        );
        assert_eq!(d.results.lock().len(), KEPT_OUTCOMES);
        assert_eq!(
            d.outcome("n0000").expect("known"),
            WriteOutcome::DeliveredWithoutAnswer
        );
    }

    #[test]
    fn a_pass_waiting_behind_a_slow_one_asks_for_the_session_only_when_its_turn_comes() {
        let d = delivery(&[item("a", "/a")]);
        let gate = std::sync::Arc::new(tokio::sync::Notify::new());
        let slow = FakeHub {
            gate: Some(gate.clone()),
            ..FakeHub::default()
        };
        let asked = std::sync::atomic::AtomicBool::new(false);
        let asked_too_soon = std::sync::atomic::AtomicBool::new(false);
        run(async {
            let first = d.deliver(|| Some((&slow, "https://hub".into(), "guard".into())));
            // Signed out meanwhile: the second pass must see that, not the session it was
            // started with.
            let second = d.deliver(|| {
                asked.store(true, std::sync::atomic::Ordering::SeqCst);
                None::<(&FakeHub, String, String)>
            });
            let meanwhile = async {
                // The first pass is in its write, the second waits for its turn.
                tokio::task::yield_now().await;
                asked_too_soon.store(
                    asked.load(std::sync::atomic::Ordering::SeqCst),
                    std::sync::atomic::Ordering::SeqCst,
                );
                gate.notify_one();
            };
            let (first, second, ()) = tokio::join!(first, second, meanwhile);
            assert_eq!(first.delivered, ["a"]);
            assert_eq!(second, Pass::default());
        });
        assert!(
            !asked_too_soon.load(std::sync::atomic::Ordering::SeqCst),
            "the session was read before the pass had its turn"
        );
        assert!(asked.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_pass_without_a_session_sends_nothing() {
        let d = delivery(&[item("a", "/a")]);
        let pass = run(d.deliver(|| None::<(&FakeHub, String, String)>));
        assert_eq!(pass, Pass::default());
        assert_eq!(waiting(&d), [("a".into(), false)]);
    }

    #[test]
    fn without_an_outbox_nothing_is_queued_and_a_pass_does_nothing() {
        let d = Delivery::new(None);
        let fake = FakeHub::default();
        assert_eq!(
            d.queue(&item("a", "/a")).expect_err("no outbox").code,
            ErrorCode::Storage
        );
        assert_eq!(
            run(d.deliver(|| Some((&fake, "https://hub".into(), "guard".into())))),
            Pass::default()
        );
        assert!(d.view().expect("view").items.is_empty());
    }
}
