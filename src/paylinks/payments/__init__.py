"""Taking a payment: the steps that move money (claim, processor, settle), the sweeper that
finishes interrupted ones, and the API's ways to make and complete a charge."""
