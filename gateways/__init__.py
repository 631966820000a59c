"""The two gateways, side by side: `gateways.stripe` (the only caller of the `stripe` SDK) and
`gateways.intercom` (the only caller of `python-intercom`). They import no other product package."""
