"""Card processors: the seam (`protocol`) and the test-mode processor (`sandbox`)."""
