"""Card builders: pure functions from domain data (a `BillingSnapshot`, a quote, ...) to Canvas Kit
components. No I/O here, so every card is testable on plain data."""
