"""Limits on password (and second-factor) guessing, checked before every check:

* per account, across addresses: failures only, in growing windows (5 in 5 minutes, 10 in an
  hour, 20 in a day), so each round of failures waits longer; the owner is emailed when the
  account first gets locked;
* per address, across accounts: failures only (password spraying from one place);
* per (address, account) pair: every attempt (the original limit).

Unknown accounts are counted like known ones, so the answers and their timing tell nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from facturo.web.ratelimit import RateLimiter

ACCOUNT_LIMITS = ("5/5minutes", "10/hour", "20/day")
ADDRESS_LIMITS = ("20/10minutes", "100/day")
PAIR_LIMIT = "5/minute"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused: ``retry_after`` seconds; ``account`` when the account's
    limit (not the caller's address) is what holds it."""

    retry_after: int
    account: bool


class PasswordThrottle:
    """The limits around one kind of secret check (``scope`` such as ``customer-login``)."""

    def __init__(self, limiter: RateLimiter, scope: str) -> None:
        self.limiter = limiter
        self.scope = scope

    def check(self, account: str, address: str) -> Refusal | None:
        """Count this attempt for the (address, account) pair; a Refusal when any limit is
        spent (nothing else is counted then)."""
        account_keys = (self.scope, "account", account)
        for limit in ACCOUNT_LIMITS:
            verdict = self.limiter.test(limit, *account_keys)
            if not verdict.allowed:
                return Refusal(verdict.retry_after, account=True)
        address_keys = (self.scope, "address", address)
        for limit in ADDRESS_LIMITS:
            verdict = self.limiter.test(limit, *address_keys)
            if not verdict.allowed:
                return Refusal(verdict.retry_after, account=False)
        verdict = self.limiter.hit(PAIR_LIMIT, self.scope, "pair", address, account)
        if not verdict.allowed:
            return Refusal(verdict.retry_after, account=False)
        return None

    def failed(self, account: str, address: str) -> bool:
        """Count a failed check; True when this failure just locked the account (tell its
        owner)."""
        account_keys = (self.scope, "account", account)
        locked_now = False
        for limit in ACCOUNT_LIMITS:
            self.limiter.hit(limit, *account_keys)
            if not self.limiter.test(limit, *account_keys).allowed:
                locked_now = True
        for limit in ADDRESS_LIMITS:
            self.limiter.hit(limit, self.scope, "address", address)
        return locked_now


def throttle(request_app_state: object, scope: str) -> PasswordThrottle:
    """The throttle of ``scope`` over the app's rate limiter."""
    limiter: RateLimiter = request_app_state.limiter  # type: ignore[attr-defined]
    return PasswordThrottle(limiter, scope)
