"""The two gateways, side by side: `gateways.stripe` (with `stripe_connection` and `stripe_budget`
beneath it, the only caller of the `stripe` SDK) and `gateways.intercom` (the only caller of
`python-intercom`). They import no other product package."""
