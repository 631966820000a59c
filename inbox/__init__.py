"""The Inbox edge: the conversation sidebar for support agents (Canvas Kit)."""
