"""The API's request pipeline: authentication, limits, parameters, idempotency, errors."""
