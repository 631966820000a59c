"""The Fin edge: Intercom data connectors for billing status, the next invoice, upgrade quotes and
refunds with guardrails (`endpoints`), their models and OpenAPI document, the sentences Fin says
(`templates/`), and the `audit` command."""
