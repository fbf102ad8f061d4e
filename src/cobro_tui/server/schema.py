"""The server's own tables (SQLAlchemy Core, its own metadata; the cache's tables are not shared)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),  # agent | supervisor | manager | auditor
    Column("team", String(32), nullable=False, server_default="norte"),
    # Sign-in (issue #14): wrong passwords in a row, locked until when, disabled since when.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", String(40), nullable=True),
    Column("disabled_at", String(40), nullable=True),
    # People (issue #16): a one-time password must be changed at the next sign-in; when they last
    # signed in and when the user was made (empty for users made before).
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    Column("last_login_at", String(40), nullable=True),
    Column("created_at", String(40), nullable=True),
)

# Session tokens, stored as their SHA-256 only: logout, disabling a user and a new sign-in delete rows.
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("expires_at", String(40), nullable=False),
    Column("created_at", String(40), nullable=True),
    Column("source", String(64), nullable=True),  # the address it was issued to
)

# Failed sign-ins per client address in the current window: past a threshold the address waits.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("window_start", String(40), nullable=False),
    Column("failures", Integer, nullable=False),
)

# Machine credentials for the institution's feeds (payments now; the portfolio and the export next):
# made and revoked by a manager, scoped, never a person's password. The secret is kept as its SHA-256.
integration_keys = Table(
    "integration_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("scopes", String(256), nullable=False),  # space-separated
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

# Every domain entity as a versioned document; `agent` is who the account is assigned to now.
entities = Table(
    "entities",
    metadata,
    Column("kind", String(24), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("agent", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_entities_account", "account_id"),
    Index("ix_entities_customer", "customer_id", "kind", "agent"),
    Index("ix_entities_agent", "agent", "kind"),
)

# The change feed: one row per change per audience agent, in commit order.
change_log = Table(
    "change_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("audience", String(64), nullable=False),
    Column("tx", BigInteger().with_variant(Integer, "sqlite"), nullable=False),  # first seq of its transaction
    Column("kind", String(24), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("op", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("payload", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Index("ix_change_log_audience", "audience", "seq"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

mutation_log = Table(
    "mutation_log",
    metadata,
    Column("mutation_id", String(64), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("device_epoch", Integer, nullable=False),
    Column("client_seq", Integer, nullable=False),
    Column("name", String(48), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("verdict", Text, nullable=False),
    Column("server_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("received_at", String(40), nullable=False),
    UniqueConstraint("device_id", "device_epoch", "client_seq", name="uq_mutation_log_device_seq"),
)

sync_clients = Table(
    "sync_clients",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("device_epoch", Integer, primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("last_client_seq", Integer, nullable=False, server_default="0"),
    Column("last_seen_at", String(40), nullable=False),
    Column("app_version", String(32), nullable=False),
    Column("schema_version", Integer, nullable=False),
    # What the workstation said when it last read its changes: items waiting to be sent, the oldest's age.
    Column("pending_items", Integer, nullable=True),
    Column("oldest_pending_at", String(40), nullable=True),
)

compliance_exceptions = Table(
    "compliance_exceptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mutation_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("code", String(48), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    # The contact-rule decision behind it (JSON: blocking rule ids, rule set, config hash, tz version).
    Column("details", Text, nullable=True),
    Column("reviewed_by", String(64), nullable=True),
    Column("reviewed_at", String(40), nullable=True),
    Column("review_note", Text, nullable=True),
)


# Intentions above the requester's authority, held until a supervisor decides (issue #6).
approvals = Table(
    "approvals",
    metadata,
    Column("mutation_id", String(64), primary_key=True),
    Column("name", String(48), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("args", Text, nullable=False),  # the command as pushed (JSON), applied as is when approved
    Column("level", String(16), nullable=False),  # the authority that must decide: supervisor | manager
    Column("why", Text, nullable=False),  # the policy's reasons, worded
    Column("requested_at", String(40), nullable=False),
    Column("observed_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    # pending | approved | denied; blocked (a later command of the same agent and account, waiting for
    # the pending one: sync-protocol B4) | released (applied or judged once nothing pending was left)
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", String(40), nullable=True),
    Column("reason", Text, nullable=True),
    Column("occurred_at", String(40), nullable=True),  # when the agent acted (the client's clock), for a blocked one
    Index("ix_approvals_status", "status"),
    Index("ix_approvals_account", "account_id", "agent"),
)

# What the agent saw at each promise, plan or refusal (issue #6): evidence for complaints.
decisions = Table(
    "decisions",
    metadata,
    Column("mutation_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("kind", String(24), nullable=False),  # promise | plan | refusal
    Column("subject_id", String(64), nullable=True),  # the promise or plan it belongs to
    Column("taken_at", String(40), nullable=False),
    Column("snapshot", Text, nullable=False),  # JSON as the workstation sent it
    Column("sha256", String(64), nullable=False),  # of its canonical JSON: the workstation's audit log has the same
    Index("ix_decisions_account", "account_id"),
)

# Narrow copies of the facts the KPIs count (issue #7), kept by every write of their documents
# (feed.Tx.put, and the seed): the KPI queries scan these, not the JSON documents.
contact_facts = Table(
    "contact_facts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("result_code", String(16), nullable=False),
    Column("started_at", String(40), nullable=False),  # fixed-width UTC text: text order is time order
    Index("ix_contact_facts_started", "started_at"),
)

# Contact attempts counted by clock hour (UTC), agent, channel and result code: the KPI report reads
# whole hours here and only the hours cut by its window from contact_facts.
contact_hours = Table(
    "contact_hours",
    metadata,
    Column("hour", String(13), primary_key=True),  # "2026-11-22T16"
    Column("agent", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("result_code", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
    # Covering: the KPI report's sums read the index in hour order, never the table (5x faster at 1M attempts).
    Index("ix_contact_hours_cover", "hour", "agent", "channel", "result_code", "n"),
)

promise_facts = Table(
    "promise_facts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("paid", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("deadline", String(10), nullable=False),  # due day plus grace days
    Index("ix_promise_facts_created", "created_at"),
    Index("ix_promise_facts_deadline", "deadline"),
)

# The portfolio side of the KPIs: each account's bucket, balance and opening day, and its bucket
# history (aging, roll rates, vintage curves).
account_facts = Table(
    "account_facts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agent", String(64), nullable=True),
    Column("bucket", String(16), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("opened_on", String(10), nullable=False),
    Index("ix_account_facts_agent", "agent"),
)

bucket_facts = Table(
    "bucket_facts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("entered_on", String(10), nullable=False),
    Column("left_on", String(10), nullable=True),
    Index("ix_bucket_facts_account", "account_id"),
)

# Payments received, for the amount recovered against the team's target (issue #7).
payment_facts = Table(
    "payment_facts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("agent", String(64), nullable=True),  # whose the account was when the payment was stored
    Column("amount", BigInteger, nullable=False),
    Column("paid_on", String(10), nullable=False),
    Column("channel", String(32), nullable=False),
    Index("ix_payment_facts_paid_on", "paid_on", "agent", "amount"),  # covering: sums from the index alone
)

# Who held each account when (issue #14): the server's own record, from which it decides whether an
# agent may record a fact about an account for a moment (they held it then) or an intention (they
# hold it now). `held_until` is empty while the holding lasts. Instants are fixed-width UTC text.
assignment_history = Table(
    "assignment_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("held_from", String(40), nullable=False),
    Column("held_until", String(40), nullable=True),
    Index("ix_assignment_history_account", "account_id", "agent"),
)

# What the server refused as an attempt on what is not the caller's (another agent's account, a
# forged server field, a failed or throttled sign-in, an audit chain that does not extend the one
# kept): who, what, when, from where. Ids and codes only, never personal data.
security_events = Table(
    "security_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("code", String(48), nullable=False),
    Column("actor", String(64), nullable=True),  # the authenticated user, or the username tried
    Column("source", String(64), nullable=True),  # the client's address
    Column("subject", String(128), nullable=True),  # the account, mutation, device or user it was about
    Column("details", Text, nullable=True),  # JSON
    Index("ix_security_events_at", "at"),
)

# Each workstation's audit chain (issue #14), as it sent it: the institution keeps the evidence
# when a workstation is wiped, and a chain that does not extend this one is refused. Bodies hold ids
# and codes only (the workstation writes no personal data into its audit log).
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
)

# Where each device's chain stands: its head, whose device it is, and an alarm once its pushes showed
# a chain shorter than the one kept (truncated) or different from it (rebuilt, forked).
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("head_seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("alarm", String(32), nullable=True),
    Column("alarm_at", String(40), nullable=True),
    Column("alarm_detail", Text, nullable=True),
)


# --- People (issue #16) ---------------------------------------------------------------------------
# The teams a manager made (users.team names one). Renaming a team renames it in users too.
teams = Table(
    "teams",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("created_at", String(40), nullable=True),
    Column("created_by", String(64), nullable=True),
)

# --- export (issue #16): the change export for the core and the CRM --------------------------------
# One row per business event (a contact, a promise and its outcome, a plan and its approval, an
# opt-out, a reassignment), written in the transaction of the change it describes. `seq` is taken
# from the change feed's counter (feed.Seqs / Tx), so seq order is commit order (server/export.py).
export_events = Table(
    "export_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("account_id", String(64), nullable=True),
    Column("at", String(40), nullable=False),  # the server's instant of the change, fixed-width UTC text
    Column("payload", Text, nullable=False),  # JSON, layout version 1 (docs/export.md)
    Index("ix_export_events_at", "at"),
)

# --- payments (issue #16): the account an institution's account number names, for the accounts
# whose id is not portfolio_ids.account_id(number) (the demo's, made before the import existed).
# Keyed by that uuid5 of the number, never the number itself: a card's full number is not kept here.
account_keys = Table(
    "account_keys",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
)

# --- importer (issue #16): the portfolio import (docs/import.md) ---

# The row the last import applied to each record, by the row's natural key (customers, accounts,
# contacts, references): the same row again (its SHA-256) is unchanged without being checked or
# compared again. Also what the core sends that workstations do not keep (an account's creditor
# and last payment amount) and the warnings the row had.
import_rows = Table(
    "import_rows",
    metadata,
    Column("kind", String(16), primary_key=True),  # customers | accounts | contacts | references
    Column("key", String(32), primary_key=True),  # hash of the row's natural key as written in the file
    Column("entity_id", String(64), nullable=False),
    Column("sha", String(32), nullable=False),  # hash of the row as sent (with the layout and bucket set)
    Column("warnings", Text, nullable=True),  # JSON list of [column, code]
    Column("extra", Text, nullable=True),  # JSON: accounts' creditor and last_payment
    Column("updated_at", String(40), nullable=False),
    Index("ix_import_rows_entity", "entity_id"),
)

# Accounts closed by the core (a row's `closed` flag, or missing from a full file): never deleted,
# taken from their agent; open again when a later file names them.
account_closures = Table(
    "account_closures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("closed_on", String(10), nullable=False),
    Column("reason", String(16), nullable=False),  # file | missing
    Column("run_id", String(64), nullable=True),
    Column("reopened_on", String(10), nullable=True),
    Index("ix_account_closures_account", "account_id", "reopened_on"),
)

# One import (a run of PUT /v1/portfolio requests with one run id): who sent it, how, what it did.
import_runs = Table(
    "import_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("caller", String(64), nullable=False),
    Column("full", Integer, nullable=False),
    Column("close_missing", Integer, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("counts", Text, nullable=False),  # JSON: new, changed, unchanged, closed, refused, warnings
    Column("closed_missing", Integer, nullable=False, server_default="0"),
)

# The accounts a full run named (refused rows too, when their number was readable).
import_seen = Table(
    "import_seen",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
)
