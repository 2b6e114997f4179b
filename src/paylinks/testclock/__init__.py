"""The test clock: a test-mode account's own time, which it may move forward."""
