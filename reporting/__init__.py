"""What the app earned and how it ran: the recovery and refund report (CLI and `/admin/report`)
and the facts it needs, recorded as the webhooks arrive."""
