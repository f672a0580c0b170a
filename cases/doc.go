// Package cases is exops's domain and its case engine.
//
// The domain: business events (CloudEvents, validated against the event-type
// table in types.go), the cases they correlate into (one composite case per
// business problem, with its families, severity, priority, owner, SLA,
// recommendations, decisions and Slack thread), and the audit entries that
// explain every change. The engine (Engine) takes events in (Ingest),
// processes cases from a durable work queue (enrich, read documents,
// summarise, recommend, judge), executes approved or automatic actions
// exactly once, delivers Slack messages through an outbox, and fires
// escalation timers.
//
// It imports the standard library only. Everything else — the store, the
// policy, the agents, the systems of record, Slack — it sees through the
// small interfaces it declares (ports.go, store.go, query.go), and one
// business Clock given by Main reaches everything that reads business time.
// A case change, the audit records that explain it and the jobs it causes
// are written in one Store.Update. The application layer above the engine is
// cases/desk.
package cases
