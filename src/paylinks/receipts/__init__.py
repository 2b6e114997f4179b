"""Receipt e-mails to the customers who ask for one on the payment page (issue 16, item 4)."""
