//! Listens on the store's event channel: an opening or closing published by
//! another process makes this process sync the breaker of that name at once,
//! instead of at its next interval. Losing a message costs nothing but that
//! head start (the interval sync still sees the fleet's state).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::script::events_channel;
use crate::sync::Shared;

/// How long one wait for a message lasts: the longest `close()` waits for
/// this thread.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// `open:<instance>:<name>` or `close:<instance>:<name>` → (instance, name).
fn parse(payload: &str) -> Option<(&str, &str)> {
    let rest = payload
        .strip_prefix("open:")
        .or_else(|| payload.strip_prefix("close:"))?;
    rest.split_once(':')
}

/// The subscriber thread's body; returns when the store closes.
pub(crate) fn run(shared: &Shared) {
    let _ = shared.subscriber_thread.set(std::thread::current());
    let channel = events_channel(&shared.prefix);
    let mut failures: i64 = 0;
    while !shared.stop.load(Ordering::Acquire) {
        if let Err(e) = listen(shared, &channel) {
            shared.counters.subscribed.store(false, Ordering::Release);
            if shared.stop.load(Ordering::Acquire) {
                break;
            }
            shared.note_error(&format!("event subscription: {e}"));
            failures = failures.saturating_add(1);
            let until = Instant::now() + shared.reconnect.calculate_delay(failures);
            while !shared.stop.load(Ordering::Acquire) && Instant::now() < until {
                std::thread::park_timeout(until.saturating_duration_since(Instant::now()));
            }
        } else {
            failures = 0;
        }
    }
    shared.counters.subscribed.store(false, Ordering::Release);
}

/// Subscribes and relays messages until the store closes (`Ok`) or the
/// connection fails (`Err`).
fn listen(shared: &Shared, channel: &str) -> redis::RedisResult<()> {
    let mut con = shared.client.get_connection_with_timeout(shared.connect_timeout)?;
    con.set_write_timeout(Some(shared.connect_timeout))?;
    let mut pubsub = con.as_pubsub();
    pubsub.set_read_timeout(Some(shared.connect_timeout))?;
    pubsub.subscribe(channel)?;
    pubsub.set_read_timeout(Some(POLL))?;
    shared.counters.commands.fetch_add(1, Ordering::Relaxed);
    shared.counters.subscribed.store(true, Ordering::Release);
    while !shared.stop.load(Ordering::Acquire) {
        match pubsub.get_message() {
            Ok(msg) => {
                if let Ok(payload) = msg.get_payload::<String>() {
                    if let Some((instance, name)) = parse(&payload) {
                        shared.poke(name, instance);
                    }
                }
            }
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads_name_the_publisher_and_the_breaker() {
        assert_eq!(parse("open:a1b2:payments"), Some(("a1b2", "payments")));
        assert_eq!(parse("close:a1b2:eu:payments"), Some(("a1b2", "eu:payments")));
        assert_eq!(parse("other:a:b"), None);
    }
}
