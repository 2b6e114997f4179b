"""What the client raises: the API's Omise error objects, and failures to reach the API at all."""

from __future__ import annotations


class PaylinksError(Exception):
    """The API answered with an error (`status` is its HTTP status, `code` Omise's code, such as
    `not_found`), or with something that is not the API's JSON at all."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str,
        location: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.location = location
        self.retry_after = retry_after  # seconds, when the server said (429, 503)

    def __str__(self) -> str:
        where = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.code}{where}: {self.message}"


class PaylinksConnectionError(PaylinksError):
    """No answer: the connection was refused or broke, or the API did not answer in time. The
    request may or may not have been applied."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=None, code="connection_error")
