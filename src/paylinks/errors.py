"""Errors as data: every failure the API reports is an `ApiError` rendered as Omise's error object.

    ApiError(status, code, message)
    ├── BadRequest            400 bad_request
    │   ├── InvalidAmount     400 invalid_amount
    │   ├── InvalidCurrency   400 invalid_currency
    │   ├── InvalidFilter     400 invalid_filter
    │   ├── InvalidScope      400 invalid_scope
    │   └── InvalidPage       400 invalid_page
    ├── AuthenticationFailure 401 authentication_failure
    ├── NotFound              404 not_found
    ├── MethodNotAllowed      405 method_not_allowed
    ├── PayloadTooLarge       413 payload_too_large
    ├── LimitExceeded         422 limit_exceeded  (the active-link cap)
    ├── RateLimited           429 too_many_requests
    └── InternalError         500 internal_error  (a bug: logged, never a stack trace on the wire)

Services raise these; one function renders them. Nothing here imports the web framework.
"""

from __future__ import annotations

from typing import Any

ERROR_DOCS = "https://www.omise.co/api-errors"


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def to_wire(self) -> dict[str, Any]:
        # Omise: the anchor is the code with dashes, as on the real error pages.
        return {
            "object": "error",
            "location": f"{ERROR_DOCS}#{self.code.replace('_', '-')}",
            "code": self.code,
            "message": self.message,
        }


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class InvalidAmount(BadRequest):
    code = "invalid_amount"


class InvalidCurrency(BadRequest):
    code = "invalid_currency"


class InvalidFilter(BadRequest):
    code = "invalid_filter"


class InvalidScope(BadRequest):
    code = "invalid_scope"


class InvalidPage(BadRequest):
    code = "invalid_page"


class InvalidCard(BadRequest):
    code = "invalid_card"


class InvalidCardToken(BadRequest):
    code = "invalid_card_token"


class UsedToken(BadRequest):
    code = "used_token"


class InvalidCharge(BadRequest):
    code = "invalid_charge"


class MissingCard(BadRequest):
    code = "missing_card"


# Omise's codes for an action the charge's state does not allow (omise-compat §4.8).
class FailedRefund(BadRequest):
    code = "failed_refund"


class FailedCapture(BadRequest):
    code = "failed_capture"


class FailedReverse(BadRequest):
    code = "failed_reverse"


class ExpiredCharge(BadRequest):
    """Omise: capturing or reversing an authorization that has lapsed."""

    code = "expired_charge"


class FailedExpire(BadRequest):
    code = "failed_expire"


class TestModeLiveCard(BadRequest):
    __test__ = False
    code = "test_mode_live_card"


class LiveModeUnavailable(BadRequest):
    code = "live_mode_unavailable"


class ProcessorRefused(ApiError):
    """The live processor (Omise) refused a call and did nothing: its own code and message,
    passed on to the merchant as Omise would have answered them."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status if 400 <= status < 500 else 400


class InvalidUrl(BadRequest):
    code = "invalid_url"


class ProcessorUnavailable(ApiError):
    """The live processor (Omise) gave no answer that says what happened; nothing was recorded,
    and asking again is safe (the next call finds out what the first one did)."""

    status = 503
    code = "service_unavailable"


class AuthenticationFailure(ApiError):
    status = 401
    code = "authentication_failure"

    def __init__(self, message: str = "authentication failed") -> None:
        super().__init__(message)


class NotFound(ApiError):
    status = 404
    code = "not_found"

    @classmethod
    def for_object(cls, kind: str, object_id: str) -> NotFound:
        return cls(f"{kind} {object_id} was not found")


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class LimitExceeded(ApiError):
    status = 422
    code = "limit_exceeded"


class RateLimited(ApiError):
    status = 429
    code = "too_many_requests"


class InternalError(ApiError):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "an unexpected error occurred; it has been logged") -> None:
        super().__init__(message)
