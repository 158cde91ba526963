"""Outbound deliveries of a finished execution: its signed callback, and the write-back of a
ticket enhancement. Each is tried with exponential backoff; every attempt is recorded."""

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import Conflict

MAX_EXCERPT = 512  # of a response body: enough to debug, too little to store a page


class DeliveryKind(enum.StrEnum):
    CALLBACK = "callback"
    TICKET_WRITEBACK = "ticket_writeback"


class DeliveryStatus(enum.StrEnum):
    WAITING = "waiting"  # the execution has not ended yet
    PENDING = "pending"  # due at next_attempt_at (or in flight until then)
    DELIVERED = "delivered"
    FAILED = "failed"  # permanently: refused, or out of tries
    SKIPPED = "skipped"  # nothing to do (a write-back of a run that did not succeed)


ENDED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Try `max_attempts` times at most, waiting first_delay * factor**(n-1) (capped) after
    the n-th failure, and never after `give_up_after` from the first try."""

    max_attempts: int
    first_delay: timedelta
    factor: float = 4.0
    max_delay: timedelta = timedelta(hours=6)
    give_up_after: timedelta = timedelta(hours=24)

    def delay_after(self, attempt: int) -> timedelta:
        return min(self.first_delay * self.factor ** (attempt - 1), self.max_delay)


def callback_policy(first_delay: timedelta = timedelta(seconds=10)) -> RetryPolicy:
    # 10 s, 40 s, 2.7 min, 11 min, 43 min, 2.8 h, 6 h: 8 tries, about 10 h in all.
    return RetryPolicy(max_attempts=8, first_delay=first_delay)


def writeback_policy(first_delay: timedelta = timedelta(seconds=10)) -> RetryPolicy:
    return RetryPolicy(max_attempts=5, first_delay=first_delay)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one try got: delivered, or why not and whether trying again may help."""

    delivered: bool
    transient: bool = False
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    delivery_id: uuid.UUID
    tenant_id: uuid.UUID
    number: int
    started_at: datetime
    finished_at: datetime
    delivered: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None


@dataclass(slots=True, eq=False)
class Delivery:
    id: uuid.UUID
    tenant_id: uuid.UUID
    execution_id: uuid.UUID
    kind: DeliveryKind
    target: str  # the callback URL, or the ticket's id in the tenant's ticket system
    message_id: str  # `webhook-id` of a callback: the same on every try
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.WAITING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    updated_at: datetime | None = None
    activated_at: datetime | None = None  # when the execution ended: the 24 h start

    def __post_init__(self) -> None:
        self.kind, self.status = DeliveryKind(self.kind), DeliveryStatus(self.status)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Delivery) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    def activate(self, execution_succeeded: bool, now: datetime) -> None:
        """The execution ended: due now (a write-back only after a success)."""
        if self.status is not DeliveryStatus.WAITING:
            return
        if self.kind is DeliveryKind.TICKET_WRITEBACK and not execution_succeeded:
            self.status, self.last_error = DeliveryStatus.SKIPPED, "the execution did not succeed"
        else:
            self.status, self.next_attempt_at = DeliveryStatus.PENDING, now
        self.updated_at = self.activated_at = now

    def skip(self, reason: str, now: datetime) -> None:
        self.status, self.last_error, self.updated_at = DeliveryStatus.SKIPPED, reason, now
        self.next_attempt_at = None

    def begin_attempt(self, now: datetime, lease_until: datetime) -> int:
        """Take the next try; until `lease_until` nobody else starts one."""
        if self.status is not DeliveryStatus.PENDING:
            raise Conflict(f"Delivery is {self.status.value}, not pending")
        self.attempts += 1
        self.next_attempt_at, self.updated_at = lease_until, now
        return self.attempts

    def record(self, outcome: AttemptOutcome, now: datetime, policy: RetryPolicy) -> None:
        self.updated_at = now
        if outcome.delivered:
            self.status, self.next_attempt_at, self.last_error = (
                DeliveryStatus.DELIVERED,
                None,
                None,
            )
            return
        self.last_error = outcome.error or f"HTTP {outcome.status_code}"
        retry_at = now + policy.delay_after(self.attempts)
        out_of_time = retry_at > (self.activated_at or now) + policy.give_up_after
        if not outcome.transient or self.attempts >= policy.max_attempts or out_of_time:
            self.status, self.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            self.next_attempt_at = retry_at
