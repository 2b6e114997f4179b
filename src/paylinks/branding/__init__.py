"""How an account's hosted payment page looks: display name, logo, brand colour, support e-mail."""
